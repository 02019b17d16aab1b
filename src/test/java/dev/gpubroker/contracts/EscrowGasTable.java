package dev.gpubroker.contracts;

import static dev.gpubroker.contracts.EscrowOnChain.THOUSAND_USDC;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.math.BigInteger;
import java.security.InvalidAlgorithmParameterException;
import java.security.NoSuchAlgorithmException;
import java.security.NoSuchProviderException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;

import dev.gpubroker.contracts.ContractClient.Sent;
import dev.gpubroker.contracts.EscrowOnChain.TransferTerms;
import dev.gpubroker.support.AnvilNode;

/**
 * Gas per job, measured from real receipts on a fresh anvil: GpuEscrowGasTest asserts issue 13's promise on it and the
 * PaymentBenchmark prints it.
 *
 * <p>The yardstick is a TestUsdc transfer to an address that held no USDC, the transfer a payment to someone new
 * costs. Each job here is the same kind of payment: its settlement pays a payee that held no USDC yet (the batch's
 * payee too), and its payer is one the escrow has seen before (the escrow registers a payer once, at its first
 * deposit, which is printed apart). Deposits are medians of several, settlements and refunds single receipts.
 */
public final class EscrowGasTable {

    private static final BigInteger AMOUNT = BigInteger.valueOf(400_000_000);
    private static final BigInteger USED = BigInteger.valueOf(123_456_789);
    private static final int SAMPLES = 5;

    /** The printable table and the ratios issue 13 bounds: gas per job over a bare transfer's. */
    public record Figures(String table, double job, double transferJob, double batchedJob10, double batchedJob20) {
    }

    private EscrowGasTable() {
    }

    /** Starts its own anvil, deploys TestUsdc and GpuEscrow, and measures. */
    public static Figures measure() throws Exception {
        try (AnvilNode anvil = AnvilNode.start()) {
            return measure(anvil, new ContractClient(anvil));
        }
    }

    private static Figures measure(AnvilNode anvil, ContractClient chain) throws Exception {
        EscrowOnChain escrow = EscrowOnChain.deploy(anvil, chain);
        Credentials payer = anvil.account(2);
        Credentials holder = anvil.account(3);
        escrow.mint(payer.getAddress(), THOUSAND_USDC.multiply(BigInteger.valueOf(100)));
        escrow.mint(holder.getAddress(), THOUSAND_USDC);

        long transferToNewHolder = escrow.chain.send(holder, escrow.usdc, "transfer", new Address(freshAddress()),
                new Uint256(BigInteger.ONE)).gasUsed();
        long transferToHolder = escrow.chain.send(holder, escrow.usdc, "transfer", new Address(payer.getAddress()),
                new Uint256(BigInteger.ONE)).gasUsed();

        String payee = freshAddress();
        long firstDepositIntoEmptyEscrow = succeeded(escrow.receiveDeposit(escrow.operator,
                terms(escrow, payer, payee), payer));
        Credentials newPayer = Credentials.create(Keys.createEcKeyPair());
        escrow.mint(newPayer.getAddress(), THOUSAND_USDC);
        long firstDepositOfPayer = succeeded(escrow.receiveDeposit(escrow.operator, terms(escrow, newPayer, payee),
                newPayer));
        List<byte[]> open = new ArrayList<>();
        long deposit = median(() -> {
            TransferTerms terms = terms(escrow, payer, payee);
            open.add(terms.reservationId());
            return succeeded(escrow.receiveDeposit(escrow.operator, terms, payer));
        });
        long depositTransfer = median(() -> {
            TransferTerms terms = terms(escrow, payer, payee);
            open.add(terms.reservationId());
            return succeeded(escrow.depositTransfer(escrow.operator, terms, escrow.signedTransfer(terms, payer)));
        });
        TransferTerms frontRun = terms(escrow, payer, payee);
        succeeded(escrow.transferStraightToToken(holder, frontRun, escrow.signedTransfer(frontRun, payer)));
        long creditTransfer = succeeded(escrow.creditTransfer(escrow.operator, frontRun,
                escrow.signedTransfer(frontRun, payer)));

        long settleToNewPayee = succeeded(escrow.settle(open.removeFirst(), USED));
        long settleToPayee = succeeded(escrow.settle(open.removeFirst(), USED));
        long refund = succeeded(escrow.refund(open.removeFirst()));

        BatchGas batchOf10 = settleBatch(escrow, payer, 10, false);
        BatchGas batchOf20 = settleBatch(escrow, payer, 20, false);
        BatchGas batchOf20Payers = settleBatch(escrow, payer, 20, true);

        double job = ratio(deposit + settleToNewPayee, transferToNewHolder);
        double transferJob = ratio(depositTransfer + settleToNewPayee, transferToNewHolder);
        double batchedJob10 = ratio(deposit + batchOf10.perItem(), transferToNewHolder);
        double batchedJob20 = ratio(deposit + batchOf20.perItem(), transferToNewHolder);
        double batchedTransferJob20 = ratio(depositTransfer + batchOf20.perItem(), transferToNewHolder);
        double batchedJob20Payers = ratio(deposit + batchOf20Payers.perItem(), transferToNewHolder);

        String table = String.format("""
                GpuEscrow gas (anvil receipts; deposits are medians of %d)
                | call | gas |
                | --- | --- |
                | ERC-20 transfer to a new holder (the yardstick) | %,d |
                | ERC-20 transfer to a holder | %,d |
                | deposit (ReceiveWithAuthorization), payer seen before | %,d |
                | deposit, the payer's first (registers it) | %,d |
                | deposit, the escrow's first (empty escrow; registers payer and payee) | %,d |
                | depositTransfer (TransferWithAuthorization), payer seen before | %,d |
                | creditTransfer (after a front-run) | %,d |
                | settle, payee new | %,d |
                | settle, payee a holder | %,d |
                | refund | %,d |
                | settleBatch of 10, one payer, per reservation | %,d (%,d in all) |
                | settleBatch of 20, one payer, per reservation | %,d (%,d in all) |
                | settleBatch of 20, 20 payers, per reservation | %,d (%,d in all) |
                | (deposit + settle) / transfer | %.2f (depositTransfer: %.2f) |
                | (deposit + settleBatch/10) / transfer | %.2f |
                | (deposit + settleBatch/20) / transfer | %.2f (depositTransfer: %.2f; 20 payers: %.2f) |
                """, SAMPLES, transferToNewHolder, transferToHolder, deposit, firstDepositOfPayer,
                firstDepositIntoEmptyEscrow, depositTransfer,
                creditTransfer, settleToNewPayee, settleToPayee, refund, batchOf10.perItem(), batchOf10.total(),
                batchOf20.perItem(), batchOf20.total(), batchOf20Payers.perItem(), batchOf20Payers.total(), job,
                transferJob, batchedJob10, batchedJob20, batchedTransferJob20, batchedJob20Payers);
        return new Figures(table, job, transferJob, batchedJob10, batchedJob20);

    }

    /** Deposits {@code size} reservations and settles them in one batch paying a payee that held no USDC. */
    private static BatchGas settleBatch(EscrowOnChain escrow, Credentials funder, int size, boolean payerEach)
            throws Exception {
        String payee = freshAddress();
        List<byte[]> reservationIds = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            Credentials payer = funder;
            if (payerEach) {
                payer = Credentials.create(Keys.createEcKeyPair());
                escrow.mint(payer.getAddress(), THOUSAND_USDC);
            }
            TransferTerms terms = terms(escrow, payer, payee);
            succeeded(escrow.receiveDeposit(escrow.operator, terms, payer));
            reservationIds.add(terms.reservationId());
        }
        long total = succeeded(escrow.settleBatch(escrow.operator, reservationIds,
                Collections.nCopies(size, USED)));
        return new BatchGas(total, size);
    }

    private static TransferTerms terms(EscrowOnChain escrow, Credentials payer, String payee) throws IOException {
        return escrow.transferTerms(payer, payee, AMOUNT);
    }

    private static long succeeded(Sent sent) {
        assertThat(sent.succeeded()).as("reverted: %s", sent.revertReason()).isTrue();
        return sent.gasUsed();
    }

    private static long median(GasOfOne gasOfOne) throws IOException {
        List<Long> samples = new ArrayList<>();
        for (int i = 0; i < SAMPLES; i++) {
            samples.add(gasOfOne.measure());
        }
        Collections.sort(samples);
        return samples.get(SAMPLES / 2);
    }

    private static double ratio(long gas, long transferGas) {
        return (double) gas / transferGas;
    }

    private static String freshAddress()
            throws InvalidAlgorithmParameterException, NoSuchAlgorithmException, NoSuchProviderException {
        return Credentials.create(Keys.createEcKeyPair()).getAddress();
    }

    @FunctionalInterface
    private interface GasOfOne {
        long measure() throws IOException;
    }

    private record BatchGas(long total, int size) {

        long perItem() {
            return total / size;
        }
    }
}
