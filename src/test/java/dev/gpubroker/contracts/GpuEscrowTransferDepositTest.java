package dev.gpubroker.contracts;

import static dev.gpubroker.contracts.EscrowOnChain.DEPOSITED;
import static dev.gpubroker.contracts.EscrowOnChain.REFUNDED;
import static dev.gpubroker.contracts.EscrowOnChain.SETTLED;
import static dev.gpubroker.contracts.EscrowOnChain.THOUSAND_USDC;
import static dev.gpubroker.contracts.EscrowOnChain.topic;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.math.BigInteger;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint8;
import org.web3j.crypto.Credentials;
import org.web3j.utils.Numeric;

import dev.gpubroker.contracts.ContractClient.Sent;
import dev.gpubroker.contracts.Eip712.Signature;
import dev.gpubroker.contracts.EscrowOnChain.Escrowed;
import dev.gpubroker.contracts.EscrowOnChain.TransferTerms;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.support.AnvilNode;

/**
 * Deposits from the signature a stock x402 client makes, a TransferWithAuthorization to the escrow with a random
 * nonce, against a real anvil: the payer's money always ends as its own deposit or stays where it was, including
 * when a stranger submits the signed transfer straight to the token first.
 */
class GpuEscrowTransferDepositTest {

    private static final BigInteger AMOUNT = BigInteger.valueOf(400_000_000);
    private static final BigInteger USED = BigInteger.valueOf(123_456_789);
    private static final long THIRTY_DAYS_SECONDS = 30L * 24 * 3_600;
    private static final String USED_OR_CANCELED = "FiatTokenV2: authorization is used or canceled";

    private static AnvilNode anvil;
    private static ContractClient chain;

    private EscrowOnChain escrow;
    private Credentials operator;
    private Credentials payer;
    private Credentials payee;
    private Credentials stranger;

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
    void deployFreshContractsAndFundThePayer() throws IOException {
        escrow = EscrowOnChain.deploy(anvil, chain);
        operator = escrow.operator;
        payer = anvil.account(2);
        payee = anvil.account(3);
        stranger = anvil.account(4);
        escrow.mint(payer.getAddress(), THOUSAND_USDC);
    }

    @Test
    void theOperatorTurnsAStockTransferIntoADepositOfThePayerThatSettlesBackToThePayer() throws IOException {
        TransferTerms terms = terms();

        Sent deposited = escrow.depositTransfer(operator, terms, escrow.signedTransfer(terms, payer));

        assertThat(deposited.succeeded()).as(deposited.revertReason()).isTrue();
        assertThat(escrow.balanceOf(payer.getAddress())).isEqualTo(THOUSAND_USDC.subtract(AMOUNT));
        assertThat(escrow.balanceOf(escrow.escrow)).isEqualTo(AMOUNT);
        assertThat(escrow.escrowed(terms.reservationId())).isEqualTo(new Escrowed(payer.getAddress(),
                payee.getAddress(), AMOUNT, terms.deadline(), BigInteger.ZERO, BigInteger.ZERO, DEPOSITED));
        assertThat(deposited.logs(escrow.escrow, "Deposited(bytes32,address,address,uint256,uint256)"))
                .singleElement().satisfies(log -> assertThat(log.getTopics()).containsExactly(
                        EscrowContract.DEPOSITED_TOPIC, Numeric.toHexString(terms.reservationId()),
                        topic(payer.getAddress()), topic(payee.getAddress())));
        escrow.assertBooksBalance(BigInteger.ZERO);

        assertThat(escrow.settle(terms.reservationId(), USED).succeeded()).isTrue();

        assertThat(escrow.balanceOf(payee.getAddress())).isEqualTo(USED);
        assertThat(escrow.balanceOf(payer.getAddress())).isEqualTo(THOUSAND_USDC.subtract(USED));
        assertThat(escrow.escrowed(terms.reservationId())).isEqualTo(new Escrowed(payer.getAddress(),
                payee.getAddress(), AMOUNT, terms.deadline(), USED, AMOUNT.subtract(USED), SETTLED));
        escrow.assertBooksBalance(BigInteger.ZERO);
    }

    @Test
    void aTransferDepositRefundsTheWholeAmountToThePayer() throws IOException {
        TransferTerms terms = terms();
        assertThat(escrow.depositTransfer(operator, terms, escrow.signedTransfer(terms, payer)).succeeded()).isTrue();

        Sent refunded = escrow.refund(terms.reservationId());

        assertThat(refunded.succeeded()).isTrue();
        assertThat(escrow.balanceOf(payer.getAddress())).isEqualTo(THOUSAND_USDC);
        assertThat(escrow.escrowed(terms.reservationId()).state()).isEqualTo(REFUNDED);
        escrow.assertBooksBalance(BigInteger.ZERO);
    }

    @Test
    void onlyTheOperatorMayDepositOrCreditATransfer() throws IOException {
        TransferTerms terms = terms();
        Signature signature = escrow.signedTransfer(terms, payer);

        for (Credentials notOperator : List.of(stranger, payer, payee, escrow.deployer)) {
            String refusal = "CallerIsNotOperator(" + notOperator.getAddress() + ")";
            assertThat(escrow.depositTransfer(notOperator, terms, signature).revertReason()).isEqualTo(refusal);
            assertThat(escrow.creditTransfer(notOperator, terms, signature).revertReason()).isEqualTo(refusal);
        }
        assertThat(escrow.authorizationUsed(payer.getAddress(), terms.nonce())).isFalse();
        assertThat(escrow.balanceOf(payer.getAddress())).isEqualTo(THOUSAND_USDC);
        escrow.assertBooksBalance(BigInteger.ZERO);
    }

    @Test
    void aTransferAStrangerSubmitsStraightToTheTokenIsCreditedOnceToItsPayerAndSettles() throws IOException {
        TransferTerms terms = terms();
        Signature signature = escrow.signedTransfer(terms, payer);

        Sent frontRun = escrow.transferStraightToToken(stranger, terms, signature);
        Sent deposited = escrow.depositTransfer(operator, terms, signature);

        assertThat(frontRun.succeeded()).isTrue();
        assertThat(deposited.revertReason()).isEqualTo(USED_OR_CANCELED);
        assertThat(escrow.escrowed(terms.reservationId()).state()).isEqualTo(EscrowOnChain.NONE);
        escrow.assertBooksBalance(AMOUNT);

        Sent credited = escrow.creditTransfer(operator, terms, signature);

        assertThat(credited.succeeded()).as(credited.revertReason()).isTrue();
        assertThat(escrow.escrowed(terms.reservationId())).isEqualTo(new Escrowed(payer.getAddress(),
                payee.getAddress(), AMOUNT, terms.deadline(), BigInteger.ZERO, BigInteger.ZERO, DEPOSITED));
        assertThat(credited.logs(escrow.escrow, "Deposited(bytes32,address,address,uint256,uint256)")).hasSize(1);
        assertThat(credited.logs(escrow.escrow, "TransferCredited(bytes32,address,bytes32)")).singleElement()
                .satisfies(log -> {
                    assertThat(log.getTopics()).containsExactly(EscrowContract.TRANSFER_CREDITED_TOPIC,
                            Numeric.toHexString(terms.reservationId()), topic(payer.getAddress()));
                    assertThat(log.getData()).isEqualTo(Numeric.toHexString(terms.nonce()));
                });
        assertThat(escrow.transferCredited(payer.getAddress(), terms.nonce())).isTrue();
        escrow.assertBooksBalance(BigInteger.ZERO);

        // Money that arrived some other way is there to be misattributed; the record of the nonce still refuses it.
        escrow.mint(escrow.escrow, AMOUNT);
        Sent creditedAgain = escrow.creditTransfer(operator, terms.withReservationId(Eip712.randomBytes32()),
                signature);

        assertThat(creditedAgain.revertReason()).isEqualTo("TransferAlreadyCredited(" + payer.getAddress() + ", "
                + Numeric.toHexString(terms.nonce()) + ")");
        escrow.assertBooksBalance(AMOUNT);

        assertThat(escrow.settle(terms.reservationId(), USED).succeeded()).isTrue();

        assertThat(escrow.balanceOf(payee.getAddress())).isEqualTo(USED);
        assertThat(escrow.balanceOf(payer.getAddress())).isEqualTo(THOUSAND_USDC.subtract(USED));
        assertThat(escrow.balanceOf(stranger.getAddress())).isZero();
        escrow.assertBooksBalance(AMOUNT);
    }

    @Test
    void aCreditedFrontRunTransferRefundsToItsPayer() throws IOException {
        TransferTerms terms = terms();
        Signature signature = escrow.signedTransfer(terms, payer);
        assertThat(escrow.transferStraightToToken(stranger, terms, signature).succeeded()).isTrue();
        assertThat(escrow.creditTransfer(operator, terms, signature).succeeded()).isTrue();

        Sent refunded = escrow.refund(terms.reservationId());

        assertThat(refunded.succeeded()).isTrue();
        assertThat(escrow.balanceOf(payer.getAddress())).isEqualTo(THOUSAND_USDC);
        escrow.assertBooksBalance(BigInteger.ZERO);
    }

    @Test
    void aStrayTransferGoesBackToItsPayerOnceAndIsNeverAlsoCredited() throws IOException {
        TransferTerms terms = terms();
        Signature signature = escrow.signedTransfer(terms, payer);
        assertThat(escrow.transferStraightToToken(stranger, terms, signature).succeeded()).isTrue();
        escrow.assertBooksBalance(AMOUNT);

        Sent byStranger = escrow.returnTransfer(stranger, terms, signature);
        Sent returned = escrow.returnTransfer(operator, terms, signature);

        assertThat(byStranger.revertReason()).isEqualTo("CallerIsNotOperator(" + stranger.getAddress() + ")");
        assertThat(returned.succeeded()).as(returned.revertReason()).isTrue();
        assertThat(returned.logs(escrow.escrow, "TransferReturned(address,bytes32,uint256)")).singleElement()
                .satisfies(log -> assertThat(log.getTopics()).containsExactly(EscrowContract.TRANSFER_RETURNED_TOPIC,
                        topic(payer.getAddress())));
        assertThat(escrow.balanceOf(payer.getAddress())).isEqualTo(THOUSAND_USDC);
        escrow.assertBooksBalance(BigInteger.ZERO);

        // Money that arrived some other way is there to be taken; the record of the nonce refuses both paths.
        escrow.mint(escrow.escrow, AMOUNT);
        String refusal = "TransferAlreadyCredited(" + payer.getAddress() + ", " + Numeric.toHexString(terms.nonce()) + ")";
        assertThat(escrow.returnTransfer(operator, terms, signature).revertReason()).isEqualTo(refusal);
        assertThat(escrow.creditTransfer(operator, terms, signature).revertReason()).isEqualTo(refusal);
        escrow.assertBooksBalance(AMOUNT);
    }

    @Test
    void aCancelledAuthorizationIsNeitherReturnedNorCreditedWhenNoMoneyArrived() throws IOException {
        TransferTerms terms = terms();
        Signature signature = escrow.signedTransfer(terms, payer);
        assertThat(escrow.cancelAuthorization(payer, terms.nonce()).succeeded()).isTrue();

        Sent returned = escrow.returnTransfer(operator, terms, signature);

        assertThat(returned.revertReason()).isEqualTo("UnattributedBalanceTooLow(0, " + AMOUNT + ")");
        escrow.assertBooksBalance(BigInteger.ZERO);
    }

    @Test
    void aCancelledAuthorizationIsNotCreditedWhenNoMoneyArrived() throws IOException {
        TransferTerms terms = terms();
        Signature signature = escrow.signedTransfer(terms, payer);
        assertThat(escrow.cancelAuthorization(payer, terms.nonce()).succeeded()).isTrue();
        assertThat(escrow.authorizationUsed(payer.getAddress(), terms.nonce())).isTrue();

        Sent credited = escrow.creditTransfer(operator, terms, signature);

        assertThat(credited.revertReason()).isEqualTo("UnattributedBalanceTooLow(0, " + AMOUNT + ")");
        assertThat(escrow.escrowed(terms.reservationId()).state()).isEqualTo(EscrowOnChain.NONE);
        escrow.assertBooksBalance(BigInteger.ZERO);
    }

    @Test
    void aSignatureOverAnotherAmountOrRecipientOrByAnotherKeyIsNotCredited() throws IOException {
        TransferTerms terms = terms();
        Signature signature = escrow.signedTransfer(terms, payer);
        assertThat(escrow.transferStraightToToken(stranger, terms, signature).succeeded()).isTrue();
        TransferTerms smaller = terms.withAmount(AMOUNT.subtract(BigInteger.ONE));
        Signature toStranger = escrow.signedTransfer(terms, stranger.getAddress(), payer);
        Signature byStranger = escrow.signedTransfer(terms, stranger);

        Sent otherAmount = escrow.creditTransfer(operator, smaller, signature);
        Sent otherRecipient = escrow.creditTransfer(operator, terms, toStranger);
        Sent otherKey = escrow.creditTransfer(operator, terms, byStranger);
        Sent malleable = escrow.creditTransfer(operator, terms, highS(signature));

        String notPayers = "TransferNotSignedByPayer(" + payer.getAddress() + ", ";
        assertThat(otherAmount.revertReason()).startsWith(notPayers).doesNotContain(payer.getAddress() + ")");
        assertThat(otherRecipient.revertReason()).startsWith(notPayers).doesNotContain(payer.getAddress() + ")");
        assertThat(otherKey.revertReason()).isEqualTo(notPayers + stranger.getAddress() + ")");
        assertThat(malleable.revertReason()).isEqualTo(notPayers + "0x0000000000000000000000000000000000000000)");
        escrow.assertBooksBalance(AMOUNT);
        // The true signature is still creditable: the refusals recorded nothing.
        assertThat(escrow.creditTransfer(operator, terms, signature).succeeded()).isTrue();
        escrow.assertBooksBalance(BigInteger.ZERO);
    }

    @Test
    void anAuthorizationNotYetUsedIsNotCreditedEvenWithUnattributedMoneyThere() throws IOException {
        TransferTerms terms = terms();
        escrow.mint(escrow.escrow, AMOUNT);

        Sent credited = escrow.creditTransfer(operator, terms, escrow.signedTransfer(terms, payer));

        assertThat(credited.revertReason()).isEqualTo("AuthorizationNotUsed(" + payer.getAddress() + ", "
                + Numeric.toHexString(terms.nonce()) + ")");
        assertThat(escrow.balanceOf(payer.getAddress())).isEqualTo(THOUSAND_USDC);
        escrow.assertBooksBalance(AMOUNT);
    }

    @Test
    void aTransferDepositWithAnotherAmountAnExpiredWindowOrAUsedNonceMovesNothing() throws IOException {
        TransferTerms terms = terms();
        Signature signature = escrow.signedTransfer(terms, payer);
        long now = chain.latestTimestamp();
        TransferTerms expired = terms().withValidity(BigInteger.ZERO, BigInteger.valueOf(now - 1));

        Sent otherAmount = escrow.depositTransfer(operator, terms.withAmount(AMOUNT.add(BigInteger.ONE)), signature);
        Sent expiredWindow = escrow.depositTransfer(operator, expired, escrow.signedTransfer(expired, payer));

        assertThat(otherAmount.revertReason()).isEqualTo("FiatTokenV2: invalid signature");
        assertThat(expiredWindow.revertReason()).isEqualTo("FiatTokenV2: authorization is expired");
        assertThat(escrow.balanceOf(payer.getAddress())).isEqualTo(THOUSAND_USDC);
        escrow.assertBooksBalance(BigInteger.ZERO);

        assertThat(escrow.depositTransfer(operator, terms, signature).succeeded()).isTrue();
        Sent reusedNonce = escrow.depositTransfer(operator, terms.withReservationId(Eip712.randomBytes32()),
                signature);

        assertThat(reusedNonce.revertReason()).isEqualTo(USED_OR_CANCELED);
        assertThat(escrow.balanceOf(payer.getAddress())).isEqualTo(THOUSAND_USDC.subtract(AMOUNT));
        escrow.assertBooksBalance(BigInteger.ZERO);
    }

    @Test
    void aDeadlineTheOperatorChoseBeyondThirtyDaysIsRefusedForBothTransferPaths() throws IOException {
        long now = chain.latestTimestamp();
        TransferTerms tooLong = terms().withDeadline(BigInteger.valueOf(now + THIRTY_DAYS_SECONDS + 3_600));
        Signature signature = escrow.signedTransfer(tooLong, payer);

        Sent deposited = escrow.depositTransfer(operator, tooLong, signature);
        assertThat(escrow.transferStraightToToken(stranger, tooLong, signature).succeeded()).isTrue();
        Sent credited = escrow.creditTransfer(operator, tooLong, signature);

        String refusal = "TransferDepositTermTooLong(" + tooLong.deadline() + ", ";
        assertThat(deposited.revertReason()).startsWith(refusal);
        assertThat(credited.revertReason()).startsWith(refusal);
        escrow.assertBooksBalance(AMOUNT);
    }

    @Test
    void aReservationThatHasADepositCannotBeCreditedAgain() throws IOException {
        TransferTerms first = terms();
        assertThat(escrow.depositTransfer(operator, first, escrow.signedTransfer(first, payer)).succeeded()).isTrue();
        TransferTerms second = terms().withReservationId(first.reservationId());
        Signature signature = escrow.signedTransfer(second, payer);
        assertThat(escrow.transferStraightToToken(stranger, second, signature).succeeded()).isTrue();

        Sent credited = escrow.creditTransfer(operator, second, signature);

        assertThat(credited.revertReason())
                .isEqualTo("ReservationAlreadyExists(" + Numeric.toHexString(first.reservationId()) + ")");
        escrow.assertBooksBalance(AMOUNT);
    }

    @Test
    void theEscrowSaysItIsVersionTwo() throws IOException {
        assertThat(escrow.version()).isEqualTo(EscrowContract.TRANSFER_DEPOSITS_VERSION).isEqualTo(BigInteger.TWO);
    }

    private TransferTerms terms() throws IOException {
        return escrow.transferTerms(payer, payee.getAddress(), AMOUNT);
    }

    /** The same signature with s replaced by n - s and v flipped: valid for plain ecrecover, refused by OpenZeppelin. */
    private static Signature highS(Signature signature) {
        BigInteger curveOrder = new BigInteger("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16);
        BigInteger s = curveOrder.subtract(Numeric.toBigInt(signature.s().getValue()));
        int v = signature.v().getValue().intValueExact() == 27 ? 28 : 27;
        return new Signature(new Uint8(v), signature.r(),
                new Bytes32(Numeric.toBytesPadded(s, 32)));
    }
}
