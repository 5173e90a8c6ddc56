// JdbcAutosave drives etlc serve with pgJDBC's autosave=always for
// pgwire's TestSavepointJDBC: the driver sets a savepoint before every
// statement of a transaction and rolls back to it when the statement
// fails, so the transaction goes on after an error and commits the rest.
// Usage: java -cp postgresql.jar:. JdbcAutosave PORT
import java.sql.*;

public class JdbcAutosave {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/etl?sslmode=disable&autosave=always";
        try (Connection c = DriverManager.getConnection(url, "etl", "")) {
            try (Statement st = c.createStatement()) {
                st.execute("CREATE TABLE a (id BIGINT NOT NULL, v VARCHAR)");
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO a VALUES (?, ?)")) {
                ps.setLong(1, 1);
                ps.setString(2, "one");
                System.out.println("insert " + ps.executeUpdate());
                ps.setNull(1, Types.BIGINT);
                ps.setString(2, "null id");
                try {
                    ps.executeUpdate();
                    System.out.println("inserted a NULL id");
                } catch (SQLException e) {
                    System.out.println("error " + e.getSQLState());
                }
                ps.setLong(1, 2);
                ps.setString(2, "two");
                System.out.println("insert " + ps.executeUpdate());
            }
            try (Statement st = c.createStatement()) {
                try {
                    st.executeQuery("SELECT 1/0").close();
                } catch (SQLException e) {
                    System.out.println("error " + e.getSQLState());
                }
                try (ResultSet rs = st.executeQuery("SELECT id, v FROM a ORDER BY id")) {
                    while (rs.next()) {
                        System.out.println("in the transaction " + rs.getLong(1) + " " + rs.getString(2));
                    }
                }
            }
            c.commit();
            c.setAutoCommit(true);
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM a")) {
                rs.next();
                System.out.println("committed " + rs.getLong(1));
            }
        }
    }
}
