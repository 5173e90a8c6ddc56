package session

import (
	"testing"
)

// TestValidate checks VALIDATE's contract: one row of (BOOLEAN, TEXT);
// FALSE or NULL fails with the message; a JSON message is kept as data.
func TestValidate(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	mustExec(t, s, "CREATE TABLE c (id INT, email VARCHAR); INSERT INTO c VALUES (1, 'a@x'), (2, NULL), (3, NULL), (4, NULL);")
	for _, tc := range []struct {
		name, script string
		passed       bool
		err, code    string
		data         string
	}{
		{name: "passes", passed: true,
			script: "VALIDATE some_rows AS SELECT COUNT(*) > 0, CONCAT(COUNT(*), ' contacts') FROM c;"},
		{name: "false", err: "check.sql:1:1: VALIDATE contacts_valid failed: 3 contacts without email", code: "P0001",
			script: "VALIDATE contacts_valid AS SELECT COUNT(*) = 0, CONCAT(COUNT(*), ' contacts without email') FROM c WHERE email IS NULL;"},
		{name: "null", err: "check.sql:1:1: VALIDATE v failed: unknown (the check is NULL)", code: "P0001",
			script: "VALIDATE v AS SELECT MAX(id) > 10, 'unknown' FROM c WHERE id > 100;"},
		{name: "no message", err: "check.sql:1:1: VALIDATE v failed: the check is false", code: "P0001",
			script: "VALIDATE v AS SELECT FALSE, CAST(NULL AS VARCHAR);"},
		{name: "json", err: `check.sql:1:1: VALIDATE v failed: {"missing": 3, "max": 0}`, code: "P0001", data: `{"missing": 3, "max": 0}`,
			script: `VALIDATE v AS SELECT COUNT(*) = 0, CONCAT('{"missing": ', COUNT(*), ', "max": 0}') FROM c WHERE email IS NULL;`},
		{name: "no rows", err: "check.sql:1:1: VALIDATE v failed: the VALIDATE query returned 0 rows, want exactly one row of (BOOLEAN, TEXT)", code: "21000",
			script: "VALIDATE v AS SELECT TRUE, 'x' FROM c WHERE id > 100;"},
		{name: "two rows", err: "check.sql:1:1: VALIDATE v failed: the VALIDATE query returned 2 rows, want exactly one row of (BOOLEAN, TEXT)", code: "21000",
			script: "VALIDATE v AS SELECT TRUE, 'x' FROM c WHERE id < 3;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, err := execScript(t, s, "check.sql", tc.script)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				se := stmtErr(t, err)
				if se.Error() != tc.err || se.Code != tc.code {
					t.Errorf("error %q (code %s), want %q (code %s)", se.Error(), se.Code, tc.err, tc.code)
				}
			}
			if tc.code == "21000" {
				return
			}
			if len(run.Validations) != 1 || run.Validations[0].Passed != tc.passed || string(run.Validations[0].Data) != tc.data {
				t.Errorf("validations %+v, want one that passed=%v with data %q", run.Validations, tc.passed, tc.data)
			}
		})
	}
}

// TestAssert checks ASSERT: TRUE passes; FALSE or NULL fails with the
// message, or with the condition as written when there is none.
func TestAssert(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	mustExec(t, s, "CREATE TABLE c (id INT); INSERT INTO c VALUES (1), (2);")
	run := mustExec(t, s, "ASSERT (SELECT COUNT(*) FROM c) = 2, 'want two rows, got another count';")
	if v := run.Validations; len(v) != 1 || !v[0].Passed || v[0].Condition != "(SELECT COUNT(*) FROM c) = 2" || v[0].Kind != "ASSERT" {
		t.Errorf("passing ASSERT: %+v", v)
	}
	for _, tc := range []struct{ script, err string }{
		{"ASSERT (SELECT COUNT(*) FROM c) > 5, 'not enough rows, need 6';", "assert.sql:1:1: ASSERT failed: not enough rows, need 6"},
		{"ASSERT (SELECT MAX(id) FROM c WHERE id > 9) > 0, 'no big ids';", "assert.sql:1:1: ASSERT failed: no big ids"},
		{"ASSERT 1 >\n  2;", "assert.sql:1:1: ASSERT failed: the condition 1 > 2 is not true"},
	} {
		_, err := execScript(t, s, "assert.sql", tc.script)
		se := stmtErr(t, err)
		if se.Error() != tc.err || se.Code != "P0001" || se.Validation == nil || se.Validation.Passed {
			t.Errorf("%s: error %q (code %s, %+v), want %q", tc.script, se.Error(), se.Code, se.Validation, tc.err)
		}
	}
}
