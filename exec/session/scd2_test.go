package session

import (
	"context"
	"path/filepath"
	"testing"
)

// The dimension after the initial load: one current version per contact
// that parsed and has an email (rows 17, 18 and x19 of the CSV are out).
var scd2Initial = []string{
	"1|Ada Lovelace|ada.lovelace@example.com|NY|2024-01-05 09:00:00|NULL|t",
	"2|Grace Hopper|grace.hopper@example.com|VA|2024-01-05 09:00:00|NULL|t",
	"3|Alan Turing|alan.turing@example.com|MA|2024-01-05 09:00:00|NULL|t",
	"4|Edsger Dijkstra|edsger.dijkstra@example.com|TX|2024-01-05 09:00:00|NULL|t",
	"5|Barbara Liskov|barbara.liskov@example.com|MA|2024-01-05 09:00:00|NULL|t",
	"6|Donald Knuth|donald.knuth@example.com|CA|2024-01-05 09:00:00|NULL|t",
	"7|Frances Allen|frances.allen@example.com|NY|2024-01-05 09:00:00|NULL|t",
	"8|John Backus|john.backus@example.com|NM|2024-01-05 09:00:00|NULL|t",
	"9|Hamilton, Margaret|margaret.hamilton@example.com|MA|2024-01-05 09:00:00|NULL|t",
	"10|Ken Thompson|ken.thompson@example.com|NJ|2024-01-05 09:00:00|NULL|t",
	"11|Dennis Ritchie|dennis.ritchie@example.com|NJ|2024-01-05 09:00:00|NULL|t",
	"12|Radia Perlman|radia.perlman@example.com|WA|2024-01-05 09:00:00|NULL|t",
	"13|Tony Hoare|tony.hoare@example.com|CA|2024-01-05 09:00:00|NULL|t",
	"14|Jean Sammet|jean.sammet@example.com|NY|2024-01-05 09:00:00|NULL|t",
	"15|Niklaus Wirth|niklaus.wirth@example.com|CO|2024-01-05 09:00:00|NULL|t",
	"16|Adele Goldberg|adele.goldberg@example.com|CA|2024-01-05 09:00:00|NULL|t",
	"20|Robin Milner|robin.milner@example.com|WA|2024-01-05 09:00:00|NULL|t",
}

// The history after the delta: Grace moved (VA -> CA), Barbara changed her
// email, Frances her name; their old versions are closed at the delta's
// time. Ada and Radia are unchanged (same checksum); 21-23 are new; 24 has
// no email.
var scd2History = []string{
	"1|Ada Lovelace|ada.lovelace@example.com|NY|2024-01-05 09:00:00|NULL|t",
	"2|Grace Hopper|grace.hopper@example.com|VA|2024-01-05 09:00:00|2024-02-01 08:30:00|f",
	"2|Grace Hopper|grace.hopper@example.com|CA|2024-02-01 08:30:00|NULL|t",
	"3|Alan Turing|alan.turing@example.com|MA|2024-01-05 09:00:00|NULL|t",
	"4|Edsger Dijkstra|edsger.dijkstra@example.com|TX|2024-01-05 09:00:00|NULL|t",
	"5|Barbara Liskov|barbara.liskov@example.com|MA|2024-01-05 09:00:00|2024-02-01 08:30:00|f",
	"5|Barbara Liskov|liskov@example.org|MA|2024-02-01 08:30:00|NULL|t",
	"6|Donald Knuth|donald.knuth@example.com|CA|2024-01-05 09:00:00|NULL|t",
	"7|Frances Allen|frances.allen@example.com|NY|2024-01-05 09:00:00|2024-02-01 08:30:00|f",
	"7|Frances E. Allen|frances.allen@example.com|NY|2024-02-01 08:30:00|NULL|t",
	"8|John Backus|john.backus@example.com|NM|2024-01-05 09:00:00|NULL|t",
	"9|Hamilton, Margaret|margaret.hamilton@example.com|MA|2024-01-05 09:00:00|NULL|t",
	"10|Ken Thompson|ken.thompson@example.com|NJ|2024-01-05 09:00:00|NULL|t",
	"11|Dennis Ritchie|dennis.ritchie@example.com|NJ|2024-01-05 09:00:00|NULL|t",
	"12|Radia Perlman|radia.perlman@example.com|WA|2024-01-05 09:00:00|NULL|t",
	"13|Tony Hoare|tony.hoare@example.com|CA|2024-01-05 09:00:00|NULL|t",
	"14|Jean Sammet|jean.sammet@example.com|NY|2024-01-05 09:00:00|NULL|t",
	"15|Niklaus Wirth|niklaus.wirth@example.com|CO|2024-01-05 09:00:00|NULL|t",
	"16|Adele Goldberg|adele.goldberg@example.com|CA|2024-01-05 09:00:00|NULL|t",
	"20|Robin Milner|robin.milner@example.com|WA|2024-01-05 09:00:00|NULL|t",
	"21|John McCarthy|john.mccarthy@example.com|CA|2024-02-01 08:30:00|NULL|t",
	"22|Shafi Goldwasser|shafi.goldwasser@example.com|MA|2024-02-01 08:30:00|NULL|t",
	"23|Butler Lampson|butler.lampson@example.com|WA|2024-02-01 08:30:00|NULL|t",
}

// The rows of the initial extract that do not parse, with file, line,
// column, reason and the line as written.
var scd2Quarantine = []string{
	`testdata/examples/contacts/initial/contacts.csv|19|updated_at|invalid TIMESTAMP "2024-02-30 09:00:00"|18,Kristen Nygaard,kristen.nygaard@example.com,TX,2024-02-30 09:00:00`,
	`testdata/examples/contacts/initial/contacts.csv|20|id|invalid INT "x19"|x19,Ole-Johan Dahl,ole-johan.dahl@example.com,TX,2024-01-05 09:00:00`,
}

const historyQuery = "SELECT id, name, email, state, valid_from, valid_to, is_current FROM dim_contact ORDER BY id, valid_from"

// runFile runs an example script in a new session, which it closes.
func runFile(t *testing.T, e *Engine, params map[string]string, path string) *Run {
	t.Helper()
	s := e.NewSession(Options{Params: params})
	defer s.Close()
	run, err := execScript(t, s, path, readFile(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return run
}

// TestSCD2Steps runs the SCD2 example as its three steps: the initial
// load, then the delta and the merge, each in its own session as `etlc
// run` would, and checks the dimension's history, the quarantined rows,
// the published snapshot and what each run reports.
func TestSCD2Steps(t *testing.T) {
	t.Chdir("../..")
	e := openEngine(t)
	out := t.TempDir()
	params := map[string]string{"output_dir": out, "staging_dir": filepath.Join(out, "staging")}

	run := runFile(t, e, params, "examples/scd2/initial_load.sql")
	s := e.NewSession(Options{})
	equalLines(t, "dim_contact after the initial load", rows(t, s, historyQuery), scd2Initial)
	equalLines(t, "contacts__errors", rows(t, s,
		"SELECT source_file, line, column_name, reason, raw FROM contacts__errors ORDER BY line"), scd2Quarantine)
	if len(run.Sources) != 1 {
		t.Fatalf("initial load read %d sources, want 1: %+v", len(run.Sources), run.Sources)
	}
	if src := run.Sources[0]; src.Name != "contacts" || src.Rows != 18 || src.BadRows != 2 || src.OnError != "quarantine" || src.ErrorsRelation != "contacts__errors" {
		t.Errorf("contacts summary = %+v, want 18 rows and 2 bad rows quarantined in contacts__errors", src)
	}
	wantChecks := []Validation{
		{Kind: "VALIDATE", Name: "contacts_quality", Passed: true,
			Message: `{"quarantined": 2, "missing_email": 1, "max_rejected": 5}`,
			Data:    []byte(`{"quarantined": 2, "missing_email": 1, "max_rejected": 5}`)},
		{Kind: "VALIDATE", Name: "contacts_unique_ids", Passed: true, Message: "0 contact ids appear more than once"},
		{Kind: "ASSERT", Passed: true, Message: "no contacts to load", Condition: "(SELECT COUNT(*) FROM contacts_staged) > 0"},
	}
	checkValidations(t, run.Validations, wantChecks)
	checkTargets(t, run.Targets, []TargetSummary{
		{Name: "dim_contact", Kind: "table", Inserted: 17, Commits: 1, FilesWritten: 1},
		{Name: "dim_contact_current", Kind: "sink", Inserted: 17, Commits: 1, FilesWritten: 9},
	})

	runFile(t, e, params, "examples/scd2/delta_load.sql")
	run = runFile(t, e, params, "examples/scd2/merge.sql")
	for _, st := range run.Statements {
		if st.Info.Kind == "MERGE" && (st.Updated != 3 || st.Inserted != 0 || st.Deleted != 0 || st.Tag != "MERGE 3") {
			t.Errorf("MERGE: %d updated, %d inserted, %d deleted, tag %q; want 3, 0, 0, MERGE 3", st.Updated, st.Inserted, st.Deleted, st.Tag)
		}
	}
	equalLines(t, "dim_contact history", rows(t, s, historyQuery), scd2History)

	// The snapshot sink holds the current versions, one directory per state.
	mustExec(t, s, `CREATE SOURCE snapshot (id INT, name VARCHAR, email VARCHAR, valid_from TIMESTAMP, state VARCHAR)
		WITH (connector = 'file', path = '`+out+`/dim_contact_current/', format = 'parquet')`)
	equalLines(t, "dim_contact_current by state", rows(t, s,
		"SELECT state, COUNT(*), MIN(id), MAX(id) FROM snapshot GROUP BY state ORDER BY state"), []string{
		"CA|5|2|21", "CO|1|15|15", "MA|4|3|22", "NJ|2|10|11", "NM|1|8|8", "NY|3|1|14", "TX|1|4|4", "WA|3|12|23",
	})
	// A later read of contacts__errors in another session re-reads the source.
	s2 := e.NewSession(Options{})
	equalLines(t, "contacts__errors after the merge", rows(t, s2,
		"SELECT source_file, line, column_name, reason, raw FROM contacts__errors ORDER BY line"), scd2Quarantine)
}

// TestSCD2Job runs the one-script form of the example, then runs it again:
// the second run rebuilds the dimension the same way.
func TestSCD2Job(t *testing.T) {
	t.Chdir("../..")
	e := openEngine(t)
	params := map[string]string{"output_dir": t.TempDir()}
	for i := 0; i < 2; i++ {
		run := runFile(t, e, params, "examples/scd2/scd2_job.sql")
		if len(run.Statements) != run.Count || run.Err != nil {
			t.Fatalf("run %d: %d of %d statements, error %v", i+1, len(run.Statements), run.Count, run.Err)
		}
		s := e.NewSession(Options{})
		equalLines(t, "dim_contact history", rows(t, s, historyQuery), scd2History)
	}
	// The reopened engine sees the same table (catalog and files persist).
	dir := e.Dir()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2, err := Open(context.Background(), dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	equalLines(t, "dim_contact after reopening", rows(t, e2.NewSession(Options{}), historyQuery), scd2History)
}

func checkValidations(t *testing.T, got, want []Validation) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d validations %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Kind != w.Kind || g.Name != w.Name || g.Passed != w.Passed || g.Message != w.Message ||
			string(g.Data) != string(w.Data) || g.Condition != w.Condition {
			t.Errorf("validation %d = %+v (data %s), want %+v (data %s)", i, g, g.Data, w, w.Data)
		}
	}
}

func checkTargets(t *testing.T, got, want []TargetSummary) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d targets %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		g.BytesWritten = 0 // Parquet sizes depend on the writer's version
		if g != w {
			t.Errorf("target %d = %+v, want %+v", i, g, w)
		}
	}
}
