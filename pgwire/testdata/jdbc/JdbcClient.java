// JdbcClient drives etlc serve with pgJDBC for pgwire's TestJDBC: a
// PreparedStatement binding every supported type, a read back, and a
// fetch size with autocommit off (the driver's portal suspension).
// Usage: java -cp postgresql.jar:. JdbcClient PORT
import java.math.BigDecimal;
import java.sql.*;

public class JdbcClient {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/etl?sslmode=disable";
        try (Connection c = DriverManager.getConnection(url, "etl", "")) {
            try (Statement st = c.createStatement()) {
                st.execute("CREATE TABLE j (i8 BIGINT, i4 INT, i2 SMALLINT, f8 DOUBLE PRECISION, f4 REAL, n DECIMAL(10,3), s VARCHAR, b BOOLEAN, d DATE, ts TIMESTAMP, raw BYTEA)");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO j VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setLong(1, 9007199254740993L);
                ps.setInt(2, -42);
                ps.setShort(3, (short) 7);
                ps.setDouble(4, 0.1);
                ps.setFloat(5, 1.5f);
                ps.setBigDecimal(6, new BigDecimal("12.345"));
                ps.setString(7, "it's");
                ps.setBoolean(8, true);
                ps.setDate(9, Date.valueOf("2024-02-29"));
                ps.setTimestamp(10, Timestamp.valueOf("2024-02-29 13:14:15.123456"));
                ps.setBytes(11, new byte[] {0, 1, (byte) 0xff});
                System.out.println("insert " + ps.executeUpdate());
                for (int k = 1; k <= 11; k++) {
                    ps.setNull(k, Types.NULL);
                }
                ps.setLong(1, 2);
                System.out.println("insert " + ps.executeUpdate());
                // Several executions: the driver switches to a named
                // server-side statement after prepareThreshold uses.
                for (int k = 3; k <= 7; k++) {
                    ps.setLong(1, k);
                    ps.setInt(2, k);
                    ps.setShort(3, (short) k);
                    ps.setDouble(4, k / 4.0);
                    ps.setFloat(5, k);
                    ps.setBigDecimal(6, BigDecimal.valueOf(k, 1));
                    ps.setString(7, "r" + k);
                    ps.setBoolean(8, k % 2 == 0);
                    ps.setDate(9, Date.valueOf("2024-03-0" + k));
                    ps.setTimestamp(10, Timestamp.valueOf("2024-03-0" + k + " 00:00:00"));
                    ps.setBytes(11, new byte[] {(byte) k});
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM j WHERE i8 >= ? AND s IS DISTINCT FROM ? ORDER BY i8")) {
                ps.setLong(1, 0);
                ps.setString(2, "r5");
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        StringBuilder sb = new StringBuilder();
                        sb.append(rs.getLong(1)).append('|').append(rs.getInt(2)).append('|').append(rs.getShort(3)).append('|')
                          .append(rs.getDouble(4)).append('|').append(rs.getFloat(5)).append('|').append(rs.getBigDecimal(6)).append('|')
                          .append(rs.getString(7)).append('|').append(rs.getBoolean(8)).append('|').append(rs.getDate(9)).append('|')
                          .append(rs.getTimestamp(10)).append('|');
                        byte[] raw = rs.getBytes(11);
                        sb.append(raw == null ? "null" : raw.length);
                        System.out.println(sb);
                    }
                }
            }
            // Fetch size with autocommit off: rows come in portions of 3.
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT i8 FROM j ORDER BY i8")) {
                ps.setFetchSize(3);
                int n = 0;
                long sum = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        n++;
                        sum += rs.getLong(1);
                    }
                }
                System.out.println("fetched " + n + " sum " + sum);
            }
            c.commit();
            c.setAutoCommit(true);
            try (Statement st = c.createStatement()) {
                try {
                    st.executeQuery("SELECT nope FROM j");
                } catch (SQLException e) {
                    System.out.println("error " + e.getSQLState());
                }
            }
        }
    }
}
