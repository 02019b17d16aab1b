package dev.gpubroker.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Gas per job, the promise of issue 13, measured from real receipts on anvil ({@link EscrowGasTable}): a job (a deposit
 * and its settlement) costs at most 4 bare ERC-20 transfers, and at most 2.5 when its settlement is one of a batch.
 * Run: {@code mvn -q test -Dtest=GpuEscrowGasTest} and read the table in the output (the PaymentBenchmark prints it too).
 */
class GpuEscrowGasTest {

    private static final double JOB_TRANSFERS_MAX = 4.0;
    private static final double BATCHED_JOB_TRANSFERS_MAX = 2.5;

    @Test
    void aJobCostsAtMostFourTransfersAndABatchedOneAtMostTwoAndAHalf() throws Exception {
        EscrowGasTable.Figures figures = EscrowGasTable.measure();
        System.out.print(figures.table());

        assertThat(figures.job()).as("(deposit + settle) / transfer").isLessThanOrEqualTo(JOB_TRANSFERS_MAX);
        assertThat(figures.transferJob()).as("(depositTransfer + settle) / transfer")
                .isLessThanOrEqualTo(JOB_TRANSFERS_MAX);
        assertThat(figures.batchedJob10()).as("(deposit + settleBatch/10) / transfer")
                .isLessThanOrEqualTo(BATCHED_JOB_TRANSFERS_MAX);
        assertThat(figures.batchedJob20()).as("(deposit + settleBatch/20) / transfer")
                .isLessThanOrEqualTo(BATCHED_JOB_TRANSFERS_MAX);
    }
}
