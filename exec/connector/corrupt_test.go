package connector

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// TestCorruptFilesNeverPanic reads damaged copies of a valid file in every
// format (cut at many lengths, bytes overwritten at many offsets) under
// quarantine: each read must end, with rows or a file error, and never
// panic or report more rows than the file has.
func TestCorruptFilesNeverPanic(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := memory.NewGoAllocator()
	writeParquet(t, filepath.Join(dir, "good.parquet"), 3, []string{"id", "s"},
		int64s(mem, 1, 2, 3, 4, 5, 6, 7), strs(mem, "a", "bb", "NULL", "dddd", "e", "ff", "g"))
	os.WriteFile(filepath.Join(dir, "good.csv"), []byte("id,s\n1,a\n2,\"b\nb\"\n3,\n4,dddd\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "good.json"), []byte("{\"id\":1,\"s\":\"a\"}\n{\"id\":2,\"s\":\"b\\\"b\"}\n{\"id\":3}\n"), 0o644)
	fields := parseColumns(t, "id BIGINT, s VARCHAR")
	for _, format := range []string{"parquet", "csv", "json"} {
		good, err := os.ReadFile(filepath.Join(dir, "good."+format))
		if err != nil {
			t.Fatal(err)
		}
		var variants [][]byte
		for n := 0; n < len(good); n += 1 + len(good)/60 {
			variants = append(variants, good[:n])
		}
		for off := 0; off < len(good); off += 1 + len(good)/80 {
			for _, b := range []byte{0x00, 0xff, '"', '\n'} {
				v := append([]byte(nil), good...)
				v[off] = b
				variants = append(variants, v)
			}
		}
		c := checkedConnector(t)
		p := filepath.Join(dir, "damaged."+format)
		for i, v := range variants {
			if err := os.WriteFile(p, v, 0o644); err != nil {
				t.Fatal(err)
			}
			opts, _ := ParseOptions(map[string]string{"path": p, "header": "true", "on_error": "quarantine", "batch_size": "2"}, RoleSource)
			s, err := c.Scan(ctx, opts, ScanSpec{Fields: fields})
			if err != nil {
				t.Fatalf("%s variant %d: %v", format, i, err)
			}
			rows := int64(0)
			for {
				rec, err := s.Next(ctx)
				if q := s.TakeQuarantine(); q != nil {
					if testing.Verbose() && strings.Contains(q.Column(3).ValueStr(0), "decoder failed") {
						t.Logf("%s variant %d: recovered: %.200s", format, i, q.Column(3).ValueStr(0))
					}
					q.Release()
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					if !strings.Contains(err.Error(), p) {
						t.Errorf("%s variant %d: error without the file name: %v", format, i, err)
					}
					break
				}
				rows += rec.NumRows()
				rec.Release()
			}
			s.Close()
			if rows > 7 {
				t.Errorf("%s variant %d: %d rows from a file of at most 7", format, i, rows)
			}
		}
	}
}
