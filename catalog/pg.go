package catalog

// PostgreSQL type OIDs (pg_type.oid) of the types etlc reports over the wire.
const (
	PGOIDBool        uint32 = 16
	PGOIDBytea       uint32 = 17
	PGOIDInt8        uint32 = 20
	PGOIDInt2        uint32 = 21
	PGOIDInt4        uint32 = 23
	PGOIDText        uint32 = 25
	PGOIDJSON        uint32 = 114
	PGOIDFloat4      uint32 = 700
	PGOIDFloat8      uint32 = 701
	PGOIDUnknown     uint32 = 705
	PGOIDBpchar      uint32 = 1042
	PGOIDVarchar     uint32 = 1043
	PGOIDDate        uint32 = 1082
	PGOIDTime        uint32 = 1083
	PGOIDTimestamp   uint32 = 1114
	PGOIDTimestampTZ uint32 = 1184
	PGOIDInterval    uint32 = 1186
	PGOIDNumeric     uint32 = 1700
	PGOIDJSONB       uint32 = 3802
	PGOIDInt2Vector  uint32 = 22
	PGOIDOIDVector   uint32 = 30
)

// pgArrayOIDs maps an element type's OID to its array type's OID
// (pg_type.typarray), and pgArrayNames the array types' names.
var pgArrayOIDs = map[uint32]uint32{
	PGOIDBool: 1000, PGOIDBytea: 1001, PGOIDInt2: 1005, PGOIDInt4: 1007, PGOIDText: 1009,
	PGOIDBpchar: 1014, PGOIDVarchar: 1015, PGOIDInt8: 1016, PGOIDFloat4: 1021, PGOIDFloat8: 1022,
	PGOIDTimestamp: 1115, PGOIDDate: 1182, PGOIDTime: 1183, PGOIDTimestampTZ: 1185, PGOIDInterval: 1187,
	PGOIDNumeric: 1231, PGOIDJSON: 199,
}

// PGArrayOID returns the OID of the array type whose elements have OID
// elem (1007 for int4), 0 when PostgreSQL has none.
func PGArrayOID(elem uint32) uint32 { return pgArrayOIDs[elem] }

// PGElemOID returns the element OID of the array type OID arr (23 for
// 1007), or false when arr is not an array type etlc knows.
func PGElemOID(arr uint32) (uint32, bool) {
	for e, a := range pgArrayOIDs {
		if a == arr {
			return e, true
		}
	}
	switch arr {
	case PGOIDInt2Vector:
		return PGOIDInt2, true
	case 1028, PGOIDOIDVector: // oid[], oidvector: etlc's oids are bigint
		return PGOIDInt8, true
	}
	return 0, false
}

// PGOID returns the PostgreSQL type OID that describes t in a RowDescription
// and in pg_catalog. PostgreSQL has no one-byte integer, so TINYINT is int2;
// an unbounded VARCHAR is text, VARCHAR(n) is varchar and CHAR(n) is bpchar;
// the type of a bare NULL is unknown.
func (t Type) PGOID() uint32 {
	switch t.Kind {
	case KindBool:
		return PGOIDBool
	case KindInt8, KindInt16:
		return PGOIDInt2
	case KindInt32:
		return PGOIDInt4
	case KindInt64:
		return PGOIDInt8
	case KindFloat32:
		return PGOIDFloat4
	case KindFloat64:
		return PGOIDFloat8
	case KindDecimal:
		return PGOIDNumeric
	case KindString:
		switch {
		case t.Fixed:
			return PGOIDBpchar
		case t.Length > 0:
			return PGOIDVarchar
		}
		return PGOIDText
	case KindBinary:
		return PGOIDBytea
	case KindDate:
		return PGOIDDate
	case KindTime:
		return PGOIDTime
	case KindTimestamp:
		return PGOIDTimestamp
	case KindTimestampTZ:
		return PGOIDTimestampTZ
	case KindInterval:
		return PGOIDInterval
	case KindJSON:
		return PGOIDJSON
	case KindArray:
		if a := PGArrayOID(t.ElemType().PGOID()); a != 0 {
			return a
		}
	}
	return PGOIDUnknown
}

// PGName returns the PostgreSQL type name (pg_type.typname) of t's OID,
// such as int4, numeric or timestamptz; an array's is its element's with
// a leading underscore (_int4).
func (t Type) PGName() string {
	if t.IsArray() {
		return "_" + t.ElemType().PGName()
	}
	switch t.PGOID() {
	case PGOIDBool:
		return "bool"
	case PGOIDBytea:
		return "bytea"
	case PGOIDInt8:
		return "int8"
	case PGOIDInt2:
		return "int2"
	case PGOIDInt4:
		return "int4"
	case PGOIDText:
		return "text"
	case PGOIDJSON:
		return "json"
	case PGOIDFloat4:
		return "float4"
	case PGOIDFloat8:
		return "float8"
	case PGOIDBpchar:
		return "bpchar"
	case PGOIDVarchar:
		return "varchar"
	case PGOIDDate:
		return "date"
	case PGOIDTime:
		return "time"
	case PGOIDTimestamp:
		return "timestamp"
	case PGOIDTimestampTZ:
		return "timestamptz"
	case PGOIDInterval:
		return "interval"
	case PGOIDNumeric:
		return "numeric"
	}
	return "unknown"
}

// PGTypeMod returns the type modifier PostgreSQL reports with t's OID
// (pg_attribute.atttypmod, RowDescription): ((p << 16) | s) + 4 for
// NUMERIC(p,s), n + 4 for VARCHAR(n) and CHAR(n), -1 otherwise.
func (t Type) PGTypeMod() int32 {
	if t.IsArray() {
		return t.ElemType().PGTypeMod()
	}
	switch {
	case t.Kind == KindDecimal:
		return int32(t.Precision<<16|t.Scale) + 4
	case t.Kind == KindString && t.Length > 0:
		return int32(t.Length) + 4
	}
	return -1
}

// PGSize returns pg_type.typlen of t's OID: the width in bytes of a fixed
// width type, -1 for variable-length types and -2 for unknown.
func (t Type) PGSize() int16 {
	switch t.PGOID() {
	case PGOIDBool:
		return 1
	case PGOIDInt2:
		return 2
	case PGOIDInt4, PGOIDFloat4, PGOIDDate:
		return 4
	case PGOIDInt8, PGOIDFloat8, PGOIDTime, PGOIDTimestamp, PGOIDTimestampTZ:
		return 8
	case PGOIDInterval:
		return 16
	case PGOIDUnknown:
		return -2
	}
	return -1
}

// TypeFromPG returns the Type for a PostgreSQL type OID and type modifier,
// as a client sends them for statement parameters; typmod -1 means none.
// OIDs etlc has no type for report false; unknown (705) and 0 give Null, the
// type of a parameter left to be inferred.
func TypeFromPG(oid uint32, typmod int32) (Type, bool) {
	if e, ok := PGElemOID(oid); ok {
		et, ok := TypeFromPG(e, typmod)
		if !ok || et.Kind == KindNull {
			return Type{}, false
		}
		return ArrayOf(et), true
	}
	switch oid {
	case 0, PGOIDUnknown:
		return Null, true
	case PGOIDBool:
		return Bool, true
	case PGOIDBytea:
		return Binary, true
	case PGOIDInt2:
		return Int16, true
	case PGOIDInt4:
		return Int32, true
	case PGOIDInt8:
		return Int64, true
	case PGOIDFloat4:
		return Float32, true
	case PGOIDFloat8:
		return Float64, true
	case PGOIDText:
		return String, true
	case PGOIDVarchar, PGOIDBpchar:
		if typmod < 5 {
			// No length: PostgreSQL treats both as unbounded text.
			return String, true
		}
		return Type{Kind: KindString, Length: int(typmod - 4), Fixed: oid == PGOIDBpchar}, true
	case PGOIDJSON, PGOIDJSONB:
		return JSON, true
	case PGOIDDate:
		return Date, true
	case PGOIDTime:
		return Time, true
	case PGOIDTimestamp:
		return Timestamp, true
	case PGOIDTimestampTZ:
		return TimestampTZ, true
	case PGOIDInterval:
		return Interval, true
	case PGOIDNumeric:
		if typmod < 4 {
			// An unconstrained numeric: the widest decimal with room for a fraction.
			return Decimal(MaxDecimalPrecision, 18), true
		}
		m := typmod - 4
		p, s := int(m>>16&0xffff), int(m&0xffff)
		if p < 1 || p > MaxDecimalPrecision || s > p {
			return Type{}, false
		}
		return Decimal(p, s), true
	}
	return Type{}, false
}
