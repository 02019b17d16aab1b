package dev.gpubroker.platform.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.web3j.protocol.exceptions.ClientConnectionException;

/** One rule per case: what each failure of a provider or node call amounts to, and whether it is worth asking again. */
class FaultsTest {

    @Test
    void aCallThatTimedOutIsATransientTimeout() {
        assertThat(Faults.classify(new TimeoutException("Did not observe any item within 5000ms"))).isEqualTo(Fault.TIMEOUT);
        assertThat(Faults.classify(new SocketTimeoutException("Read timed out"))).isEqualTo(Fault.TIMEOUT);
        assertThat(Fault.TIMEOUT.isTransient()).isTrue();
    }

    @Test
    void aConnectionRefusedOrAnUnknownHostIsTransientlyUnreachable() {
        assertThat(Faults.classify(new ConnectException("Connection refused"))).isEqualTo(Fault.UNREACHABLE);
        assertThat(Faults.classify(new UnknownHostException("rpc.example"))).isEqualTo(Fault.UNREACHABLE);
        assertThat(Faults.classify(new IOException("Connection reset by peer"))).isEqualTo(Fault.UNREACHABLE);
        assertThat(Fault.UNREACHABLE.verdict()).isEqualTo(Fault.Verdict.TRANSIENT);
    }

    @Test
    void aWrappedFaultIsToldByItsCause() {
        assertThat(Faults.classify(new CompletionException(new UncheckedIOException(new ConnectException("refused")))))
                .isEqualTo(Fault.UNREACHABLE);
        assertThat(Faults.classify(new RuntimeException("wrapper", new TimeoutException()))).isEqualTo(Fault.TIMEOUT);
    }

    @ParameterizedTest
    @CsvSource({ "429, UNAVAILABLE", "500, UNAVAILABLE", "502, UNAVAILABLE", "503, UNAVAILABLE", "504, UNAVAILABLE",
            "408, TIMEOUT", "400, REFUSED", "401, REFUSED", "404, REFUSED" })
    void anHttpStatusFromTheNodesTransportIsReadOnce(int status, Fault expected) {
        ClientConnectionException answer = new ClientConnectionException("Invalid response received: " + status
                + "; {\"error\":\"...\"}");
        assertThat(Faults.classify(answer)).isEqualTo(expected);
        assertThat(Faults.ofHttpStatus(status)).isEqualTo(expected);
    }

    @Test
    void tooManyRequestsAndServerErrorsAreWorthAskingAgainButClientErrorsAreNot() {
        assertThat(Faults.ofHttpStatus(429).isTransient()).isTrue();
        assertThat(Faults.ofHttpStatus(503).isTransient()).isTrue();
        assertThat(Faults.ofHttpStatus(400).isTransient()).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "nonce too low: next nonce 7, tx nonce 5 | NONCE_USED",
            "replacement transaction underpriced | NONCE_USED",
            "nonce has already been used | NONCE_USED",
            "already known | ALREADY_KNOWN",
            "Known transaction: 0xabc | ALREADY_KNOWN",
            "insufficient funds for gas * price + value | INSUFFICIENT_FUNDS",
            "execution reverted: AlreadyDeposited() | REVERTED",
            "max fee per gas less than block base fee | REFUSED",
            "intrinsic gas too low | REFUSED",
            "Your app has exceeded its compute units per second capacity (rate limit) | UNAVAILABLE",
            "Too Many Requests | UNAVAILABLE" })
    void aNodesErrorAnswerIsReadInOnePlace(String message, Fault expected) {
        assertThat(Faults.ofNodeMessage(message)).isEqualTo(expected);
    }

    @Test
    void aNodesRefusalsArePermanentForThatTransaction() {
        assertThat(Fault.NONCE_USED.isTransient()).isFalse();
        assertThat(Fault.ALREADY_KNOWN.isTransient()).isFalse();
        assertThat(Fault.INSUFFICIENT_FUNDS.isTransient()).isFalse();
        assertThat(Fault.REVERTED.isTransient()).isFalse();
        assertThat(Fault.REFUSED.isTransient()).isFalse();
    }

    @Test
    void anExceptionThatKnowsItsFaultIsBelieved() {
        class ProviderSaysUnavailable extends RuntimeException implements ClassifiedFault {
            @Override
            public Fault fault() {
                return Fault.UNAVAILABLE;
            }
        }
        assertThat(Faults.classify(new ProviderSaysUnavailable())).isEqualTo(Fault.UNAVAILABLE);
        assertThat(Faults.classify(new IllegalStateException("outer", new ProviderSaysUnavailable())))
                .isEqualTo(Fault.UNAVAILABLE);
    }

    @Test
    void anUnexpectedErrorIsPermanentSoItIsNeverRetriedBlindly() {
        assertThat(Faults.classify(new NullPointerException())).isEqualTo(Fault.UNEXPECTED);
        assertThat(Faults.classify(new IllegalStateException("a bug"))).isEqualTo(Fault.UNEXPECTED);
        assertThat(Fault.UNEXPECTED.isTransient()).isFalse();
    }

    @Test
    void aCycleOfCausesEndsTheSearch() {
        RuntimeException first = new RuntimeException("first");
        RuntimeException second = new RuntimeException("second", first);
        first.initCause(second);
        assertThat(Faults.classify(first)).isEqualTo(Fault.UNEXPECTED);
    }
}
