package parser

import "sort"

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
