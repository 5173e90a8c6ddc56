// MetaData prints what pgJDBC's DatabaseMetaData answers against the
// gateway, the calls a JDBC tool such as DBeaver makes to fill its
// navigator: product and version, schemas, tables and views of a schema,
// the columns of a table, its primary key and its indexes (which pgJDBC
// reads with information_schema._pg_expandarray over pg_index.indkey). The
// Go test compares the output with what it expects. Usage: java -cp
// postgresql.jar:. MetaData URL
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;

public class MetaData {
    public static void main(String[] args) throws Exception {
        try (Connection conn = DriverManager.getConnection(args[0])) {
            DatabaseMetaData md = conn.getMetaData();
            System.out.println("product: " + md.getDatabaseProductName() + " " + md.getDatabaseMajorVersion()
                + "." + md.getDatabaseMinorVersion());
            System.out.println("user: " + md.getUserName());
            System.out.println("catalog: " + conn.getCatalog() + ", schema: " + conn.getSchema());
            try (ResultSet rs = md.getSchemas()) {
                while (rs.next()) {
                    System.out.println("schema: " + rs.getString("TABLE_SCHEM"));
                }
            }
            try (ResultSet rs = md.getTables(null, "public", "%", new String[] {"TABLE", "VIEW"})) {
                while (rs.next()) {
                    System.out.println("table: " + rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME")
                        + " " + rs.getString("TABLE_TYPE") + " (" + rs.getString("REMARKS") + ")");
                }
            }
            try (ResultSet rs = md.getTables(null, "etl", "r%", null)) {
                while (rs.next()) {
                    System.out.println("table: " + rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME")
                        + " " + rs.getString("TABLE_TYPE"));
                }
            }
            for (String table : new String[] {"customers", "orders"}) {
                try (ResultSet rs = md.getColumns(null, "public", table, "%")) {
                    while (rs.next()) {
                        System.out.println("column: " + rs.getString("TABLE_NAME") + "." + rs.getString("COLUMN_NAME")
                            + " " + rs.getString("TYPE_NAME") + " sqltype=" + rs.getInt("DATA_TYPE")
                            + " size=" + rs.getInt("COLUMN_SIZE") + " digits=" + rs.getInt("DECIMAL_DIGITS")
                            + " nullable=" + rs.getString("IS_NULLABLE") + " pos=" + rs.getInt("ORDINAL_POSITION"));
                    }
                }
            }
            try (ResultSet rs = md.getPrimaryKeys(null, "public", "customers")) {
                while (rs.next()) {
                    System.out.println("primary key: " + rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME")
                        + " " + rs.getString("PK_NAME") + " column=" + rs.getString("COLUMN_NAME")
                        + " seq=" + rs.getInt("KEY_SEQ"));
                }
            }
            try (ResultSet rs = md.getIndexInfo(null, "public", "customers", false, false)) {
                while (rs.next()) {
                    System.out.println("index: " + rs.getString("TABLE_NAME") + " " + rs.getString("INDEX_NAME")
                        + " non_unique=" + rs.getBoolean("NON_UNIQUE") + " type=" + rs.getShort("TYPE")
                        + " pos=" + rs.getShort("ORDINAL_POSITION") + " column=" + rs.getString("COLUMN_NAME")
                        + " order=" + rs.getString("ASC_OR_DESC") + " filter=" + rs.getString("FILTER_CONDITION"));
                }
            }
        }
    }
}
