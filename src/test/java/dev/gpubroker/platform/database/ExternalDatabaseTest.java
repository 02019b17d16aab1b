package dev.gpubroker.platform.database;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.sql.SQLException;
import java.time.Duration;

import org.flywaydb.core.internal.exception.FlywaySqlException;
import org.junit.jupiter.api.Test;

import io.r2dbc.spi.ConnectionFactoryOptions;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.config.StartupRefusal;

/** How gpubroker.database.url becomes a database to reach, and what is shown of it: never the password. */
class ExternalDatabaseTest {

    private static ExternalDatabase of(String url) {
        return ExternalDatabase.of(new BrokerProperties.Database(url, "", "", Duration.ofSeconds(1)));
    }

    @Test
    void theUserAndPasswordInTheUrlReachBothConnectionsAndNeitherIsShown() {
        ExternalDatabase database = of("r2dbc:postgresql://broker:s3cret@db.example:6543/money");

        assertThat(database.where()).isEqualTo("db.example:6543/money");
        assertThat(database.toString()).isEqualTo("PostgreSQL at db.example:6543/money as broker").doesNotContain("s3cret");
        assertThat(database.options().getValue(ConnectionFactoryOptions.PASSWORD).toString()).isEqualTo("s3cret");
        assertThat(database.jdbcUrl()).startsWith("jdbc:postgresql://db.example:6543/money?").doesNotContain("s3cret");
        assertThat(database.user()).isEqualTo("broker");
        assertThat(database.password()).isEqualTo("s3cret");
    }

    @Test
    void theSettingsWinOverTheUrlsCredentialsAndThePortDefaultsToPostgresqls() {
        ExternalDatabase database = ExternalDatabase.of(new BrokerProperties.Database(
                "r2dbc:postgresql://old:old@db.example/money", "broker", "from-a-secret-file", Duration.ofSeconds(1)));

        assertThat(database.user()).isEqualTo("broker");
        assertThat(database.port()).isEqualTo(5432);
        assertThat(database.password()).isEqualTo("from-a-secret-file");
    }

    @Test
    void aRowLockIsWaitedForTenSecondsAsOnH2UnlessTheUrlSaysOtherwise() {
        assertThat(of("r2dbc:postgresql://u:p@h/d").options().getValue(ConnectionFactoryOptions.LOCK_WAIT_TIMEOUT))
                .isEqualTo(Duration.ofSeconds(10));
        assertThat(of("r2dbc:postgresql://u:p@h/d?lockWaitTimeout=PT2S").options()
                .getValue(ConnectionFactoryOptions.LOCK_WAIT_TIMEOUT)).isEqualTo("PT2S");
    }

    @Test
    void theUrlsTlsModeIsTheMigrationsToo() {
        assertThat(of("r2dbc:postgresql://u:p@h/d?sslMode=verify-full").jdbcUrl()).endsWith("&sslmode=verify-full");
    }

    @Test
    void aUrlThatIsNotPostgresqlsIsRefusedWithoutRepeatingIt() {
        assertThatThrownBy(() -> of("postgres://u:s3cret@h/d")).isInstanceOf(StartupRefusal.class)
                .hasMessageContaining("not an R2DBC URL").hasMessageNotContaining("s3cret");
        assertThatThrownBy(() -> of("r2dbc:mysql://u:s3cret@h/d")).isInstanceOf(StartupRefusal.class)
                .hasMessageContaining("'mysql'").hasMessageNotContaining("s3cret");
        assertThatThrownBy(() -> of("r2dbc:pool:postgresql://u:s3cret@h/d")).isInstanceOf(StartupRefusal.class)
                .hasMessageContaining("pools connections itself").hasMessageNotContaining("s3cret");
        assertThatThrownBy(() -> of("r2dbc:postgresql://h/d")).isInstanceOf(StartupRefusal.class)
                .hasMessageContaining("names no user");
    }

    @Test
    void theSettingsAsPrintedShowNoPassword() {
        BrokerProperties.Database settings = new BrokerProperties.Database("r2dbc:postgresql://broker:s3cret@h:5432/d",
                "", "other-s3cret", Duration.ofSeconds(1));
        assertThat(settings.toString()).contains("r2dbc:postgresql://broker:***@h:5432/d").doesNotContain("s3cret");
        assertThat(settings.redactedUrl()).isEqualTo("r2dbc:postgresql://broker:***@h:5432/d");
    }

    @Test
    void aServerThatIsDownOrRefusesTheUserIsAnOperatorsToFixInOneLine() {
        ExternalDatabase database = of("r2dbc:postgresql://broker:s3cret@db.example:6543/money");

        StartupRefusal down = DatabaseRefusals.refusalFor(new FlywaySqlException("Unable to obtain connection",
                new SQLException("Connection to db.example:6543 refused", "08001", new ConnectException("Connection refused"))),
                database);
        assertThat(down).hasMessage("cannot reach PostgreSQL at db.example:6543 (ConnectException: Connection refused): "
                + "start it, or correct gpubroker.database.url");

        StartupRefusal wrongPassword = DatabaseRefusals.refusalFor(new FlywaySqlException("Unable to obtain connection",
                new SQLException("password authentication failed for user \"broker\"", "28P01")), database);
        assertThat(wrongPassword.getMessage()).startsWith("PostgreSQL at db.example:6543 refuses user 'broker' (SQLSTATE 28P01)")
                .doesNotContain("s3cret");

        StartupRefusal noDatabase = DatabaseRefusals.refusalFor(new FlywaySqlException("Unable to obtain connection",
                new SQLException("database \"money\" does not exist", "3D000")), database);
        assertThat(noDatabase.getMessage()).startsWith("PostgreSQL at db.example:6543 has no database 'money'");

        assertThat(DatabaseRefusals.refusalFor(new FlywaySqlException("migration failed",
                new SQLException("syntax error", "42601")), database)).as("a bug, not a refusal").isNull();
    }
}
