package session

import (
	"context"
	"path/filepath"
	"testing"
)

func TestScratchSCD2(t *testing.T) {
	t.Chdir("../..")
	e, err := Open(context.Background(), filepath.Join(t.TempDir(), "data"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	out := t.TempDir()
	s := e.NewSession(Options{Params: map[string]string{"output_dir": out, "staging_dir": out + "/staging"}})
	for _, f := range []string{"examples/scd2/initial_load.sql", "examples/scd2/delta_load.sql", "examples/scd2/merge.sql"} {
		run, err := execScript(t, s, f, readFile(t, f))
		t.Logf("%s: err=%v", f, err)
		for _, st := range run.Statements {
			t.Logf("  %s %s tag=%q rows read %d written %d", st.Info.Pos, st.Info.Title(), st.Tag, st.RowsRead, st.RowsWritten)
		}
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	for _, r := range rows(t, s, "SELECT id, name, email, state, valid_from, valid_to, is_current FROM dim_contact ORDER BY id, valid_from") {
		t.Log(r)
	}
}
