package dev.gpubroker.payments;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.support.BrokerIntegrationTest;

/** The account tool shows the wallet's balance as the chain holds it, however large. */
class AccountBalanceTest extends BrokerIntegrationTest {

    @Autowired
    PaymentChain paymentChain;

    @Test
    void aWalletBalanceAboveWhatALongHoldsIsShownExactly() throws Exception {
        // 2^63 micro-units and a bit: more USDC than exists, but a token can say so and the account must not break.
        BigInteger micros = BigInteger.TWO.pow(63).add(BigInteger.valueOf(1_234_567));
        NewAgent whale = newAgent("whale");
        mintMicros(whale.agent().walletAddress(), micros);

        Map<String, Object> account = output(call(client(whale.apiKey()), "account", Map.of()));

        assertThat(account).containsEntry("usdcBalance", new BigDecimal(micros, 6).toPlainString());
        assertThat(paymentChain.context().usdc().balanceOf(whale.agent().walletAddress()).block(Duration.ofSeconds(10)))
                .isEqualTo(micros);
    }

    /** Usdc (a long) cannot hold such an amount: it is minted in parts the test token accepts. */
    private void mintMicros(String address, BigInteger micros) throws Exception {
        for (BigInteger left = micros; left.signum() > 0; ) {
            BigInteger part = left.min(BigInteger.valueOf(Long.MAX_VALUE));
            paymentChain.mintTestUsdc(address, Usdc.ofMicros(part.longValueExact()));
            left = left.subtract(part);
        }
    }
}
