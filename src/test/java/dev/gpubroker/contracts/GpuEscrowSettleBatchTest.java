package dev.gpubroker.contracts;

import static dev.gpubroker.contracts.EscrowOnChain.DEPOSITED;
import static dev.gpubroker.contracts.EscrowOnChain.REFUNDED;
import static dev.gpubroker.contracts.EscrowOnChain.SETTLED;
import static dev.gpubroker.contracts.EscrowOnChain.THOUSAND_USDC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.web3j.abi.datatypes.DynamicArray;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Credentials;
import org.web3j.utils.Numeric;

import dev.gpubroker.contracts.ContractClient.Sent;
import dev.gpubroker.contracts.EscrowOnChain.Escrowed;
import dev.gpubroker.contracts.EscrowOnChain.TransferTerms;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.support.AnvilNode;

/**
 * settleBatch against a real anvil: many reservations closed in one transaction, each exactly as settle would close
 * it, with the money moved in as few transfers as the runs of payees and payers allow, or nothing at all.
 */
class GpuEscrowSettleBatchTest {

    private static final BigInteger AMOUNT = BigInteger.valueOf(400_000_000);
    private static final String TRANSFER_EVENT = "Transfer(address,address,uint256)";

    private static AnvilNode anvil;
    private static ContractClient chain;

    private EscrowOnChain escrow;
    private Credentials payer;
    private Credentials otherPayer;
    private Credentials payee;

    @BeforeAll
    static void startChain() throws Exception {
        anvil = AnvilNode.start();
        chain = new ContractClient(anvil);
    }

    @AfterAll
    static void stopChain() throws Exception {
        if (anvil != null) {
            anvil.close();
        }
    }

    @BeforeEach
    void deployFreshContractsAndFundThePayers() throws IOException {
        escrow = EscrowOnChain.deploy(anvil, chain);
        payer = anvil.account(2);
        otherPayer = anvil.account(3);
        payee = anvil.account(4);
        escrow.mint(payer.getAddress(), THOUSAND_USDC);
        escrow.mint(otherPayer.getAddress(), THOUSAND_USDC);
    }

    @Test
    void aBatchPaysThePayeeAndEachPayerExactlyWhatTheirReservationsSayInOneTransferPerRun() throws IOException {
        List<Credentials> payers = List.of(payer, payer, otherPayer, payer, payer);
        List<BigInteger> used = List.of(BigInteger.valueOf(100_000_000), BigInteger.ZERO,
                BigInteger.valueOf(123_456_789), AMOUNT, BigInteger.ONE);
        escrow.mint(payer.getAddress(), THOUSAND_USDC);
        List<byte[]> reservationIds = deposited(payers);

        Sent settled = escrow.settleBatch(escrow.operator, reservationIds, used);

        assertThat(settled.succeeded()).as(settled.revertReason()).isTrue();
        BigInteger paidOut = used.stream().reduce(BigInteger.ZERO, BigInteger::add);
        BigInteger refundedToPayer = AMOUNT.multiply(BigInteger.valueOf(4))
                .subtract(used.get(0)).subtract(used.get(1)).subtract(used.get(3)).subtract(used.get(4));
        BigInteger refundedToOtherPayer = AMOUNT.subtract(used.get(2));
        assertThat(escrow.balanceOf(payee.getAddress())).isEqualTo(paidOut);
        assertThat(escrow.balanceOf(payer.getAddress()))
                .isEqualTo(THOUSAND_USDC.multiply(BigInteger.TWO).subtract(AMOUNT.multiply(BigInteger.valueOf(4)))
                        .add(refundedToPayer));
        assertThat(escrow.balanceOf(otherPayer.getAddress()))
                .isEqualTo(THOUSAND_USDC.subtract(AMOUNT).add(refundedToOtherPayer));
        for (int i = 0; i < reservationIds.size(); i++) {
            Escrowed escrowed = escrow.escrowed(reservationIds.get(i));
            assertThat(escrowed.state()).isEqualTo(SETTLED);
            assertThat(escrowed.payer()).isEqualToIgnoringCase(payers.get(i).getAddress());
            assertThat(escrowed.paidOut()).isEqualTo(used.get(i));
            assertThat(escrowed.paidOut().add(escrowed.refunded())).isEqualTo(escrowed.amount());
        }
        assertThat(settled.logs(escrow.escrow, "Settled(bytes32,uint256,uint256)")).hasSize(reservationIds.size());
        // One payee run; payer runs payer,payer | otherPayer | payer,payer, each with something to refund.
        assertThat(settled.logs(escrow.usdc, TRANSFER_EVENT)).hasSize(1 + 3);
        escrow.assertBooksBalance(BigInteger.ZERO);
    }

    @Test
    void theSettledEventsOfABatchAreThoseSettleWouldEmit() throws IOException {
        List<byte[]> reservationIds = deposited(List.of(payer, otherPayer));
        List<BigInteger> used = List.of(BigInteger.valueOf(7), BigInteger.valueOf(300_000_000));

        Sent settled = escrow.settleBatch(escrow.operator, reservationIds, used);

        assertThat(settled.logs(escrow.escrow, "Settled(bytes32,uint256,uint256)")).hasSize(2).satisfies(logs -> {
            for (int i = 0; i < logs.size(); i++) {
                assertThat(logs.get(i).getTopics()).containsExactly(EscrowContract.SETTLED_TOPIC,
                        Numeric.toHexString(reservationIds.get(i)));
                assertThat(logs.get(i).getData()).isEqualTo("0x"
                        + Numeric.toHexStringNoPrefixZeroPadded(used.get(i), 64)
                        + Numeric.toHexStringNoPrefixZeroPadded(AMOUNT.subtract(used.get(i)), 64));
            }
        });
    }

    @Test
    void aClosedReservationInTheBatchRevertsTheWholeBatch() throws IOException {
        List<byte[]> reservationIds = deposited(List.of(payer, otherPayer, payer));
        assertThat(escrow.refund(reservationIds.get(1)).succeeded()).isTrue();
        BigInteger payerBefore = escrow.balanceOf(payer.getAddress());

        Sent settled = escrow.settleBatch(escrow.operator, reservationIds,
                List.of(BigInteger.ONE, BigInteger.ONE, BigInteger.ONE));

        assertThat(settled.revertReason()).isEqualTo("ReservationNotOpen("
                + Numeric.toHexString(reservationIds.get(1)) + ", " + REFUNDED + ")");
        assertThat(escrow.escrowed(reservationIds.get(0)).state()).isEqualTo(DEPOSITED);
        assertThat(escrow.escrowed(reservationIds.get(2)).state()).isEqualTo(DEPOSITED);
        assertThat(escrow.balanceOf(payee.getAddress())).isZero();
        assertThat(escrow.balanceOf(payer.getAddress())).isEqualTo(payerBefore);
        escrow.assertBooksBalance(BigInteger.ZERO);
    }

    @Test
    void aReservationTwiceInOneBatchOrAUseAboveItsAmountRevertsTheWholeBatch() throws IOException {
        List<byte[]> reservationIds = deposited(List.of(payer, otherPayer));
        byte[] first = reservationIds.get(0);

        Sent twice = escrow.settleBatch(escrow.operator, List.of(first, reservationIds.get(1), first),
                List.of(BigInteger.ONE, BigInteger.ONE, BigInteger.ONE));
        Sent tooMuch = escrow.settleBatch(escrow.operator, reservationIds,
                List.of(BigInteger.ONE, AMOUNT.add(BigInteger.ONE)));

        assertThat(twice.revertReason())
                .isEqualTo("ReservationNotOpen(" + Numeric.toHexString(first) + ", " + SETTLED + ")");
        assertThat(tooMuch.revertReason()).isEqualTo("UsedExceedsAmount(" + AMOUNT.add(BigInteger.ONE) + ", "
                + AMOUNT + ")");
        assertThat(escrow.balanceOf(payee.getAddress())).isZero();
        escrow.assertBooksBalance(BigInteger.ZERO);
    }

    @Test
    void arraysOfDifferentLengthsOrNoReservationsAreRefused() throws IOException {
        List<byte[]> reservationIds = deposited(List.of(payer, otherPayer));

        Sent mismatched = chain.send(escrow.operator, escrow.escrow, "settleBatch",
                new DynamicArray<>(Bytes32.class, reservationIds.stream().map(Bytes32::new).toList()),
                new DynamicArray<>(Uint256.class, List.of(new Uint256(BigInteger.ONE))));
        Sent empty = chain.send(escrow.operator, escrow.escrow, "settleBatch",
                new DynamicArray<>(Bytes32.class, List.of()), new DynamicArray<>(Uint256.class, List.of()));

        assertThat(mismatched.revertReason()).isEqualTo("BatchLengthMismatch(2, 1)");
        assertThat(empty.revertReason()).isEqualTo("EmptyBatch()");
        assertThatThrownBy(() -> EscrowContract.settleBatch(List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        escrow.assertBooksBalance(BigInteger.ZERO);
    }

    @Test
    void onlyTheOperatorMaySettleABatch() throws IOException {
        List<byte[]> reservationIds = deposited(List.of(payer));

        for (Credentials notOperator : List.of(payer, payee, escrow.deployer)) {
            assertThat(escrow.settleBatch(notOperator, reservationIds, List.of(AMOUNT)).revertReason())
                    .isEqualTo("CallerIsNotOperator(" + notOperator.getAddress() + ")");
        }
        assertThat(escrow.escrowed(reservationIds.getFirst()).state()).isEqualTo(DEPOSITED);
        escrow.assertBooksBalance(BigInteger.ZERO);
    }

    /** One deposit of AMOUNT to the payee per payer given, in that order. */
    private List<byte[]> deposited(List<Credentials> payers) throws IOException {
        List<byte[]> reservationIds = new ArrayList<>();
        for (Credentials each : payers) {
            TransferTerms terms = escrow.transferTerms(each, payee.getAddress(), AMOUNT);
            Sent deposited = escrow.depositTransfer(escrow.operator, terms, escrow.signedTransfer(terms, each));
            assertThat(deposited.succeeded()).as(deposited.revertReason()).isTrue();
            reservationIds.add(terms.reservationId());
        }
        return reservationIds;
    }
}
