package catalog

import (
	"encoding/json"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
)

// sampleTypes is one value of every kind, with the parameter variants that
// behave differently.
func sampleTypes() []Type {
	return []Type{
		Null, Bool, Int8, Int16, Int32, Int64, Float32, Float64,
		Decimal(1, 0), Decimal(10, 0), Decimal(12, 2), Decimal(19, 0), Decimal(38, 0), Decimal(38, 38), Decimal(38, 10),
		String, {Kind: KindString, Length: 20}, {Kind: KindString, Length: 2, Fixed: true},
		Binary, Date, Time, Timestamp, TimestampTZ, Interval, JSON,
		ArrayOf(Int32), ArrayOf(String), ArrayOf(Decimal(12, 2)),
	}
}

func TestArrowRoundTrip(t *testing.T) {
	for _, typ := range sampleTypes() {
		got, err := FromArrow(typ.Arrow())
		if err != nil {
			t.Fatalf("FromArrow(%s.Arrow()): %v", typ, err)
		}
		if needsTypeMetadata(typ) {
			// The Arrow type alone is utf8: the SQL type comes back unbounded.
			if got != String {
				t.Errorf("FromArrow(%s.Arrow()) = %s, want VARCHAR", typ, got)
			}
			continue
		}
		if got != typ {
			t.Errorf("FromArrow(%s.Arrow()) = %s", typ, got)
		}
	}
}

func TestSchemaArrowRoundTrip(t *testing.T) {
	var s Schema
	for i, typ := range sampleTypes() {
		s = append(s, Column{Name: "c" + typ.String(), Type: typ, NotNull: i%2 == 0})
	}
	as := s.Arrow()
	if as.NumFields() != len(s) {
		t.Fatalf("Arrow schema has %d fields, want %d", as.NumFields(), len(s))
	}
	if f := as.Field(0); f.Nullable {
		t.Errorf("field %s: NOT NULL column is nullable in Arrow", f.Name)
	}
	if f := as.Field(1); !f.Nullable {
		t.Errorf("field %s: nullable column is NOT NULL in Arrow", f.Name)
	}
	back, err := SchemaFromArrow(as)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(s) {
		t.Fatalf("round trip gave %d columns, want %d", len(back), len(s))
	}
	for i := range s {
		if back[i] != s[i] {
			t.Errorf("column %d: round trip gave %+v, want %+v", i, back[i], s[i])
		}
	}
}

func TestSchemaFromArrowFileTypes(t *testing.T) {
	// Types a Parquet or CSV reader produces that etlc maps onto its own.
	as := arrow.NewSchema([]arrow.Field{
		{Name: "u8", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
		{Name: "u64", Type: arrow.PrimitiveTypes.Uint64},
		{Name: "ls", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "ms", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "Europe/Paris"}, Nullable: true},
		{Name: "dict", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, Nullable: true},
	}, nil)
	got, err := SchemaFromArrow(as)
	if err != nil {
		t.Fatal(err)
	}
	want := "(u8 SMALLINT, u64 DECIMAL(20,0) NOT NULL, ls VARCHAR, ms TIMESTAMPTZ, dict VARCHAR)"
	if got.String() != want {
		t.Errorf("SchemaFromArrow = %s, want %s", got, want)
	}
	lists := arrow.NewSchema([]arrow.Field{{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true}}, nil)
	if got, err := SchemaFromArrow(lists); err != nil || got.String() != "(l INT[])" {
		t.Errorf("SchemaFromArrow(list) = %v, %v; want (l INT[])", got, err)
	}
	bad := arrow.NewSchema([]arrow.Field{{Name: "l", Type: arrow.ListOf(arrow.ListOf(arrow.PrimitiveTypes.Int32))}}, nil)
	if _, err := SchemaFromArrow(bad); err == nil || err.Error() != `catalog: column "l": catalog: Arrow type list<item: list<item: int32, nullable>, nullable>: arrays of arrays have no SQL type` {
		t.Errorf("SchemaFromArrow(list) error = %v", err)
	}
}

func TestTypeTextRoundTrip(t *testing.T) {
	for _, typ := range sampleTypes() {
		b, err := json.Marshal(typ)
		if err != nil {
			t.Fatalf("Marshal(%s): %v", typ, err)
		}
		var back Type
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if back != typ {
			t.Errorf("JSON round trip of %s gave %s", typ, back)
		}
	}
	var bad Type
	if err := json.Unmarshal([]byte(`"DECIMAL(50,2)"`), &bad); err == nil {
		t.Error("Unmarshal of DECIMAL(50,2) succeeded")
	}
}

func TestPGRoundTrip(t *testing.T) {
	for _, typ := range sampleTypes() {
		got, ok := TypeFromPG(typ.PGOID(), typ.PGTypeMod())
		if !ok {
			t.Errorf("TypeFromPG(%d, %d) for %s: not found", typ.PGOID(), typ.PGTypeMod(), typ)
			continue
		}
		want := typ
		if typ.Kind == KindInt8 {
			want = Int16 // PostgreSQL has no one-byte integer
		}
		if got != want {
			t.Errorf("TypeFromPG(%s.PGOID(), PGTypeMod()) = %s, want %s", typ, got, want)
		}
	}
	if got, ok := TypeFromPG(PGOIDNumeric, -1); !ok || got != Decimal(38, 18) {
		t.Errorf("TypeFromPG(numeric, -1) = %s, %v", got, ok)
	}
	if got, ok := TypeFromPG(PGOIDJSONB, -1); !ok || got != JSON {
		t.Errorf("TypeFromPG(jsonb) = %s, %v", got, ok)
	}
	if _, ok := TypeFromPG(2950, -1); ok { // uuid
		t.Error("TypeFromPG(uuid) succeeded")
	}
	sizes := map[Type]int16{Bool: 1, Int16: 2, Int32: 4, Int64: 8, Float64: 8, Date: 4, Interval: 16, String: -1, Decimal(5, 2): -1, Null: -2}
	for typ, want := range sizes {
		if got := typ.PGSize(); got != want {
			t.Errorf("%s.PGSize() = %d, want %d", typ, got, want)
		}
	}
}

// TestTypeRuleProperties checks over every pair of sample types that the
// super type is commutative, that both sides cast to it implicitly, that an
// implicit cast is also explicit, and that arithmetic is defined when and
// only when it is in one order or the other for + and *.
func TestTypeRuleProperties(t *testing.T) {
	types := sampleTypes()
	for _, a := range types {
		for _, b := range types {
			ab, okAB := CommonSuperType(a, b)
			ba, okBA := CommonSuperType(b, a)
			if okAB != okBA || ab != ba {
				t.Errorf("CommonSuperType(%s, %s) = %s, %v but (%s, %s) = %s, %v", a, b, ab, okAB, b, a, ba, okBA)
			}
			if okAB && (!CanImplicitCast(a, ab) || !CanImplicitCast(b, ab)) {
				t.Errorf("CommonSuperType(%s, %s) = %s, but the operands do not cast to it implicitly", a, b, ab)
			}
			if CanImplicitCast(a, b) && !CanExplicitCast(a, b) {
				t.Errorf("%s -> %s is implicit but not explicit", a, b)
			}
			if CanImplicitCast(a, b) && a.Kind != KindNull {
				if s, ok := CommonSuperType(a, b); !ok || s.Kind != b.Kind {
					t.Errorf("%s casts implicitly to %s, but their super type is %s, %v", a, b, s, ok)
				}
			}
			for _, op := range []ArithOp{OpAdd, OpMul} {
				x, errX := ArithmeticType(op, a, b)
				y, errY := ArithmeticType(op, b, a)
				if (errX == nil) != (errY == nil) || x != y {
					t.Errorf("%s %s %s = %s, %v but reversed %s, %v", a, op, b, x, errX, y, errY)
				}
			}
			if a.Kind == KindDecimal && b.Kind == KindDecimal {
				for _, op := range []ArithOp{OpAdd, OpSub, OpMul, OpDiv, OpMod} {
					r, err := DecimalResultType(op, a, b)
					if err != nil || r.Precision < 1 || r.Precision > MaxDecimalPrecision || r.Scale < 0 || r.Scale > r.Precision {
						t.Errorf("DecimalResultType(%s, %s, %s) = %s, %v: out of bounds", op, a, b, r, err)
					}
				}
			}
		}
	}
}

func TestDecimalResultTypeRejectsInexact(t *testing.T) {
	_, err := DecimalResultType(OpAdd, Float64, Int32)
	if err == nil || err.Error() != "operator +: DOUBLE and INT are not exact numeric types" {
		t.Errorf("DecimalResultType(DOUBLE, INT) error = %v", err)
	}
}

func TestClosestName(t *testing.T) {
	cands := []string{"format", "path", "header", "checkpoint_interval", "emit"}
	for _, tc := range []struct{ in, want string }{
		{"fromat", "format"},
		{"FORMAT", "format"},
		{"pth", "path"},
		{"headr", "header"},
		{"checkpoint", "checkpoint_interval"},
		{"checkpoint_intervall", "checkpoint_interval"},
		{"emt", "emit"},
		{"zzz", ""},
		{"compression", ""},
		{"che", ""},
	} {
		if got := closestName(tc.in, cands); got != tc.want {
			t.Errorf("closestName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestQuoteIdent(t *testing.T) {
	for in, want := range map[string]string{"amount": "amount", "Name": `"Name"`, "a b": `"a b"`, `x"y`: `"x""y"`, "1st": `"1st"`} {
		if got := QuoteIdent(in); got != want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", in, got, want)
		}
	}
}
