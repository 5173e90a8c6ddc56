package parser

import (
	"sort"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// Orig maps a byte offset in f.Text to the byte offset in the script it
// came from. Offsets inside text inserted by the lowering map to the start of
// the construct it replaced.
func (f *Fragment) Orig(off int) int {
	if len(f.pieces) == 0 {
		return off
	}
	i := sort.Search(len(f.pieces), func(i int) bool { return f.pieces[i].frag > off }) - 1
	if i < 0 {
		i = 0
	}
	p := f.pieces[i]
	if p.copied {
		return p.orig + (off - p.frag)
	}
	return p.orig
}

// NodePos returns the script offset where the TiDB node n, parsed from f,
// starts, or -1 when TiDB recorded no position for it (TableName nodes,
// nodes it synthesizes such as count(*)'s argument). Fragments never start
// with an expression, so offset 0 means "no position".
func (f *Fragment) NodePos(n ast.Node) int {
	off := n.OriginTextPosition()
	if off <= 0 {
		return -1
	}
	return f.Orig(off)
}

// Copied reports whether the byte at offset off of f.Text was copied from
// the script (as opposed to inserted by the lowering). Copied text equals
// the script's except that unquoted identifiers are folded to lower case.
func (f *Fragment) Copied(off int) bool {
	if len(f.pieces) == 0 {
		return true
	}
	i := sort.Search(len(f.pieces), func(i int) bool { return f.pieces[i].frag > off }) - 1
	if i < 0 {
		return false
	}
	return f.pieces[i].copied
}

// FindIdent returns the script offset of the first identifier token in the
// fragment that names name and starts at or after the script offset after,
// or -1. name may be qualified ("etl.pipelines"); it matches unquoted
// identifiers case-insensitively and quoted ones exactly. Only text copied
// from the script is searched, never text the lowering inserted. TiDB's
// TableName nodes carry no offsets; this is how a caller positions a
// diagnostic on a table name.
func (f *Fragment) FindIdent(name string, after int) int {
	parts := strings.Split(name, ".")
	toks := lex(f.Text).toks
	for i := range toks {
		if !f.Copied(toks[i].start) || f.Orig(toks[i].start) < after {
			continue
		}
		if matchQualified(toks, i, parts) {
			return f.Orig(toks[i].start)
		}
	}
	return -1
}

// matchQualified reports whether toks[i:] begins with the identifiers parts
// separated by dots.
func matchQualified(toks []token, i int, parts []string) bool {
	for k, part := range parts {
		j := i + 2*k
		if j >= len(toks) || !toks[j].isIdent() {
			return false
		}
		if k > 0 && !toks[j-1].isOp(".") {
			return false
		}
		got, quoted := identName(toks[j])
		if quoted && got != part || !quoted && got != foldIdent(part) {
			return false
		}
	}
	// A longer qualified name (a.b.c when looking for b.c) does not match
	// in the middle.
	if i >= 2 && toks[i-1].isOp(".") && toks[i-2].isIdent() {
		return false
	}
	return true
}

// fragBuilder assembles a Fragment's text and its piece map.
type fragBuilder struct {
	src    *Source
	b      strings.Builder
	pieces []piece
}

// copy appends the script text src.Text[a:b].
func (fb *fragBuilder) copy(a, b int) {
	fb.copyText(a, b, fb.src.Text[a:b])
}

// copyText appends text, which stands for src.Text[a:b] byte for byte
// (it may differ in letter case only).
func (fb *fragBuilder) copyText(a, b int, text string) {
	if b <= a {
		return
	}
	n := len(fb.pieces)
	if n > 0 {
		last := &fb.pieces[n-1]
		if last.copied && last.orig+last.n == a && last.frag+last.n == fb.b.Len() {
			last.n += b - a
			fb.b.WriteString(text)
			return
		}
	}
	fb.pieces = append(fb.pieces, piece{frag: fb.b.Len(), orig: a, n: b - a, copied: true})
	fb.b.WriteString(text)
}

// insert appends text that is not in the script; its bytes map to orig.
func (fb *fragBuilder) insert(text string, orig int) {
	if text == "" {
		return
	}
	fb.pieces = append(fb.pieces, piece{frag: fb.b.Len(), orig: orig})
	fb.b.WriteString(text)
}

func (fb *fragBuilder) fragment() *Fragment {
	return &Fragment{Source: fb.src, Text: fb.b.String(), pieces: fb.pieces}
}
