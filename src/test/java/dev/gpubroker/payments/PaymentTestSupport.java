package dev.gpubroker.payments;

import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.springframework.beans.factory.annotation.Autowired;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.support.BrokerIntegrationTest;

/** Payment tests run against the real anvil the server starts (embedded chain), through the real MCP transport. */
abstract class PaymentTestSupport extends BrokerIntegrationTest {

    @Autowired
    protected PaymentChain paymentChain;

    protected ChainContext chain() {
        return paymentChain.context();
    }

    protected void mint(String address, String usdc) throws Exception {
        paymentChain.mintTestUsdc(address, Usdc.parse(usdc));
    }

    protected BigInteger usdcOf(String address) {
        return chain().usdc().balanceOf(address).block(Duration.ofSeconds(10));
    }

    protected BigInteger escrowBalance() {
        return usdcOf(chain().escrowAddress());
    }

    /** Quotes an H100 for {@code minutes} at demo-steady and reserves it; answers the reserve output. */
    @SuppressWarnings("unchecked")
    protected Map<String, Object> reserve(McpSyncClient client, String gpu, int minutes, String key) {
        List<Map<String, Object>> quotes = quotes(call(client, "quote", Map.of("gpu", gpu, "durationMinutes", minutes,
                "providers", List.of("demo-steady"))));
        return output(call(client, "reserve", Map.of("quoteId", quotes.getFirst().get("quoteId"), "idempotencyKey", key)));
    }

    protected long ledgerImbalance() {
        return db.sql("SELECT COALESCE(SUM(CASE WHEN direction = 'D' THEN amount_micros ELSE -amount_micros END), 0) AS d "
                        + "FROM ledger_lines")
                .map(row -> row.get("d", Number.class).longValue()).one().block(Duration.ofSeconds(5));
    }
}
