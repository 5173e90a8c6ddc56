package catalog

import (
	"fmt"
	"strings"
)

// ArrayElem is one element of an array's text form: its text, or Null for
// an unquoted NULL.
type ArrayElem struct {
	Text string
	Null bool
}

// SplitArrayText reads PostgreSQL's text form of a one-dimensional array,
// {1,2,NULL} or {"a b",c}: elements are separated by commas, may be
// double-quoted (then a backslash escapes the next character, and "NULL"
// is the text NULL), and an unquoted element has its surrounding blanks
// removed. The error says why a text is not such an array.
func SplitArrayText(s string) ([]ArrayElem, error) {
	t := strings.TrimSpace(s)
	if len(t) < 2 || t[0] != '{' || t[len(t)-1] != '}' {
		return nil, fmt.Errorf(`array value must start with "{" and end with "}"`)
	}
	body := t[1 : len(t)-1]
	out := []ArrayElem{}
	if strings.TrimSpace(body) == "" {
		return out, nil
	}
	i := 0
	for {
		for i < len(body) && body[i] == ' ' {
			i++
		}
		var elem []byte
		quoted := false
		if i < len(body) && body[i] == '"' {
			quoted = true
			i++
			for i < len(body) && body[i] != '"' {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				elem = append(elem, body[i])
				i++
			}
			if i >= len(body) {
				return nil, fmt.Errorf("unterminated quoted element")
			}
			i++
		} else {
			for i < len(body) && body[i] != ',' {
				switch body[i] {
				case '{', '}', '"':
					return nil, fmt.Errorf("unexpected %q: multidimensional arrays are not supported", body[i])
				case '\\':
					if i+1 < len(body) {
						i++
					}
				}
				elem = append(elem, body[i])
				i++
			}
			elem = []byte(strings.TrimRight(string(elem), " "))
		}
		out = append(out, ArrayElem{Text: string(elem), Null: !quoted && strings.EqualFold(string(elem), "NULL")})
		for i < len(body) && body[i] == ' ' {
			i++
		}
		if i >= len(body) {
			return out, nil
		}
		if body[i] != ',' {
			return nil, fmt.Errorf("junk after an element")
		}
		i++
	}
}
