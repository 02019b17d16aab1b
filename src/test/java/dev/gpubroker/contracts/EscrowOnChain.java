package dev.gpubroker.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Bool;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.abi.datatypes.generated.Uint8;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;

import dev.gpubroker.contracts.ContractClient.Sent;
import dev.gpubroker.contracts.Eip712.Authorization;
import dev.gpubroker.contracts.Eip712.Signature;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.TransferAuthorization;
import dev.gpubroker.support.AnvilNode;

/**
 * A freshly deployed TestUsdc and GpuEscrow on an anvil chain, with the escrow's calls encoded by the server's own
 * {@link EscrowContract}, so that the tests check those encoders against the real contract too. It remembers every
 * reservation it touched so that {@link #assertBooksBalance} can read the escrow's invariants back from the chain.
 */
final class EscrowOnChain {

    static final BigInteger THOUSAND_USDC = BigInteger.valueOf(1_000_000_000);
    static final long RECLAIM_GRACE_SECONDS = 3_600;
    static final long RESERVATION_SECONDS = 7_200;
    static final long AUTHORIZATION_SECONDS = 600;

    static final int NONE = 0;
    static final int DEPOSITED = 1;
    static final int SETTLED = 2;
    static final int REFUNDED = 3;

    final AnvilNode anvil;
    final ContractClient chain;
    final Credentials deployer;
    final Credentials operator;
    final String usdc;
    final String escrow;
    final byte[] domainSeparator;
    private final Map<String, byte[]> reservationsTouched = new LinkedHashMap<>();

    private EscrowOnChain(AnvilNode anvil, ContractClient chain, Credentials deployer, Credentials operator,
            String usdc, String escrow) {
        this.anvil = anvil;
        this.chain = chain;
        this.deployer = deployer;
        this.operator = operator;
        this.usdc = usdc;
        this.escrow = escrow;
        this.domainSeparator = Eip712.usdcDomainSeparator(AnvilNode.CHAIN_ID, usdc);
    }

    /** Deploys TestUsdc and GpuEscrow from anvil's account 0, with account 1 as the escrow's operator. */
    static EscrowOnChain deploy(AnvilNode anvil, ContractClient chain) throws IOException {
        Credentials deployer = anvil.account(0);
        Credentials operator = anvil.account(1);
        String usdc = chain.deployed(deployer, "TestUsdc");
        String escrow = chain.deployed(deployer, "GpuEscrow", new Address(usdc), new Address(operator.getAddress()),
                new Uint256(RECLAIM_GRACE_SECONDS));
        return new EscrowOnChain(anvil, chain, deployer, operator, usdc, escrow);
    }

    void mint(String to, BigInteger amount) throws IOException {
        Sent minted = chain.send(deployer, usdc, "mint", new Address(to), new Uint256(amount));
        assertThat(minted.succeeded()).as("mint: %s", minted.revertReason()).isTrue();
    }

    BigInteger balanceOf(String account) throws IOException {
        return chain.balanceOf(usdc, account);
    }

    /** The terms a stock x402 client signs (random nonce, validAfter 0), with a reservation and deadline added. */
    TransferTerms transferTerms(Credentials payer, String payee, BigInteger amount) throws IOException {
        long now = chain.latestTimestamp();
        return new TransferTerms(Eip712.randomBytes32(), payer.getAddress(), payee, amount,
                BigInteger.valueOf(now + RESERVATION_SECONDS), BigInteger.ZERO,
                BigInteger.valueOf(now + AUTHORIZATION_SECONDS), Eip712.randomBytes32());
    }

    /** The payer's TransferWithAuthorization to the escrow, as the x402 client signs it. */
    Signature signedTransfer(TransferTerms terms, Credentials signer) {
        return signedTransfer(terms, escrow, signer);
    }

    Signature signedTransfer(TransferTerms terms, String to, Credentials signer) {
        return new Authorization(terms.payer(), to, terms.amount(), terms.validAfter(), terms.validBefore(),
                terms.nonce()).sign(Eip712.TRANSFER_WITH_AUTHORIZATION_TYPEHASH, domainSeparator, signer);
    }

    Sent depositTransfer(Credentials sender, TransferTerms terms, Signature signature) throws IOException {
        touched(terms.reservationId());
        return chain.sendData(sender, escrow, EscrowContract.depositTransfer(Numeric.toHexString(terms.reservationId()),
                terms.authorization(escrow), terms.payee(), terms.deadline(), signatureData(signature)));
    }

    Sent creditTransfer(Credentials sender, TransferTerms terms, Signature signature) throws IOException {
        touched(terms.reservationId());
        return chain.sendData(sender, escrow, EscrowContract.creditTransfer(Numeric.toHexString(terms.reservationId()),
                terms.authorization(escrow), terms.payee(), terms.deadline(), signatureData(signature)));
    }

    /** GpuEscrow.returnTransfer, encoded as the broker encodes it: the transfer's own part of depositTransfer's call. */
    Sent returnTransfer(Credentials sender, TransferTerms terms, Signature signature) throws IOException {
        return chain.sendData(sender, escrow, EscrowContract.returnTransfer(terms.authorization(escrow),
                signatureData(signature)));
    }

    /** What a front-runner does with a signed transfer it saw: submit it to the token itself. */
    Sent transferStraightToToken(Credentials sender, TransferTerms terms, Signature signature) throws IOException {
        return chain.send(sender, usdc, "transferWithAuthorization", new Address(terms.payer()), new Address(escrow),
                new Uint256(terms.amount()), new Uint256(terms.validAfter()), new Uint256(terms.validBefore()),
                new Bytes32(terms.nonce()), signature.v(), signature.r(), signature.s());
    }

    /** A deposit the way the broker's own clients make it: ReceiveWithAuthorization, nonce bound to the terms. */
    Sent receiveDeposit(Credentials sender, TransferTerms terms, Credentials signer) throws IOException {
        touched(terms.reservationId());
        byte[] nonce = Eip712.keccakOfAbiEncoded(new Bytes32(terms.reservationId()), new Address(terms.payee()),
                new Uint256(terms.deadline()));
        Signature signature = new Authorization(terms.payer(), escrow, terms.amount(), terms.validAfter(),
                terms.validBefore(), nonce).sign(Eip712.RECEIVE_WITH_AUTHORIZATION_TYPEHASH, domainSeparator, signer);
        return chain.send(sender, escrow, "deposit", new Bytes32(terms.reservationId()), new Address(terms.payer()),
                new Address(terms.payee()), new Uint256(terms.amount()), new Uint256(terms.deadline()),
                new Uint256(terms.validAfter()), new Uint256(terms.validBefore()), signature.v(), signature.r(),
                signature.s());
    }

    Sent settle(byte[] reservationId, BigInteger used) throws IOException {
        return chain.sendData(operator, escrow, EscrowContract.settle(Numeric.toHexString(reservationId), used));
    }

    Sent settleBatch(Credentials sender, List<byte[]> reservationIds, List<BigInteger> used) throws IOException {
        return chain.sendData(sender, escrow, EscrowContract.settleBatch(
                reservationIds.stream().map(Numeric::toHexString).toList(), used));
    }

    Sent refund(byte[] reservationId) throws IOException {
        return chain.sendData(operator, escrow, EscrowContract.refund(Numeric.toHexString(reservationId)));
    }

    /** Cancels the payer's authorization with its nonce, as USDC's cancelAuthorization does. */
    Sent cancelAuthorization(Credentials authorizer, byte[] nonce) throws IOException {
        byte[] cancelHash = Eip712.keccakOfAbiEncoded(new Bytes32(Eip712.CANCEL_AUTHORIZATION_TYPEHASH),
                new Address(authorizer.getAddress()), new Bytes32(nonce));
        Signature signature = Eip712.sign(domainSeparator, cancelHash, authorizer);
        return chain.send(authorizer, usdc, "cancelAuthorization", new Address(authorizer.getAddress()),
                new Bytes32(nonce), signature.v(), signature.r(), signature.s());
    }

    boolean authorizationUsed(String authorizer, byte[] nonce) throws IOException {
        return (Boolean) chain.call(usdc, "authorizationState", List.of(new Address(authorizer), new Bytes32(nonce)),
                List.of(new TypeReference<Bool>() {})).getFirst().getValue();
    }

    boolean transferCredited(String payer, byte[] nonce) throws IOException {
        return (Boolean) chain.call(escrow, "transferCredited", List.of(new Address(payer), new Bytes32(nonce)),
                List.of(new TypeReference<Bool>() {})).getFirst().getValue();
    }

    BigInteger totalOpen() throws IOException {
        return chain.callUint(escrow, "totalOpen");
    }

    BigInteger unattributed() throws IOException {
        return Numeric.toBigInt(chain.callData(escrow, EscrowContract.unattributedCall()));
    }

    BigInteger version() throws IOException {
        return Numeric.toBigInt(chain.callData(escrow, EscrowContract.versionCall()));
    }

    Escrowed escrowed(byte[] reservationId) throws IOException {
        List<Type> values = chain.call(escrow, "deposits", List.of(new Bytes32(reservationId)),
                List.of(new TypeReference<Address>() {}, new TypeReference<Address>() {},
                        new TypeReference<Uint256>() {}, new TypeReference<Uint256>() {},
                        new TypeReference<Uint256>() {}, new TypeReference<Uint256>() {},
                        new TypeReference<Uint8>() {}));
        return new Escrowed((String) values.get(0).getValue(), (String) values.get(1).getValue(),
                (BigInteger) values.get(2).getValue(), (BigInteger) values.get(3).getValue(),
                (BigInteger) values.get(4).getValue(), (BigInteger) values.get(5).getValue(),
                ((BigInteger) values.get(6).getValue()).intValueExact());
    }

    /**
     * The escrow's books read back from the chain: every closed deposit adds up (amount == paidOut + refunded), open
     * ones have paid nothing, totalOpen is the sum of the open amounts, and the balance is totalOpen plus exactly the
     * money that arrived without a deposit.
     */
    void assertBooksBalance(BigInteger expectedUnattributed) throws IOException {
        BigInteger open = BigInteger.ZERO;
        for (byte[] reservationId : reservationsTouched.values()) {
            Escrowed escrowed = escrowed(reservationId);
            if (escrowed.state() == DEPOSITED) {
                open = open.add(escrowed.amount());
                assertThat(escrowed.paidOut().add(escrowed.refunded())).isZero();
            } else if (escrowed.state() != NONE) {
                assertThat(escrowed.paidOut().add(escrowed.refunded())).isEqualTo(escrowed.amount());
            }
        }
        assertThat(totalOpen()).as("totalOpen vs the open deposits").isEqualTo(open);
        assertThat(balanceOf(escrow)).as("escrow balance vs totalOpen + unattributed")
                .isEqualTo(open.add(expectedUnattributed));
        assertThat(unattributed()).isEqualTo(expectedUnattributed);
    }

    private void touched(byte[] reservationId) {
        reservationsTouched.put(Numeric.toHexString(reservationId), reservationId);
    }

    static Sign.SignatureData signatureData(Signature signature) {
        return new Sign.SignatureData((byte) signature.v().getValue().intValueExact(), signature.r().getValue(),
                signature.s().getValue());
    }

    static String topic(String address) {
        return Numeric.toHexStringWithPrefixZeroPadded(Numeric.toBigInt(address), 64);
    }

    /** One row of deposits(bytes32), addresses in lower case so rows compare by value. */
    record Escrowed(String payer, String payee, BigInteger amount, BigInteger deadline, BigInteger paidOut,
            BigInteger refunded, int state) {

        Escrowed {
            payer = payer.toLowerCase(Locale.ROOT);
            payee = payee.toLowerCase(Locale.ROOT);
        }
    }

    /** A stock x402 TransferWithAuthorization (payer, amount, window, random nonce) and the escrow terms added to it. */
    record TransferTerms(byte[] reservationId, String payer, String payee, BigInteger amount, BigInteger deadline,
            BigInteger validAfter, BigInteger validBefore, byte[] nonce) {

        TransferAuthorization authorization(String escrow) {
            return new TransferAuthorization(payer, escrow, amount, validAfter, validBefore, Numeric.toHexString(nonce));
        }

        TransferTerms withReservationId(byte[] otherReservationId) {
            return new TransferTerms(otherReservationId, payer, payee, amount, deadline, validAfter, validBefore, nonce);
        }

        TransferTerms withAmount(BigInteger otherAmount) {
            return new TransferTerms(reservationId, payer, payee, otherAmount, deadline, validAfter, validBefore, nonce);
        }

        TransferTerms withDeadline(BigInteger otherDeadline) {
            return new TransferTerms(reservationId, payer, payee, amount, otherDeadline, validAfter, validBefore, nonce);
        }

        TransferTerms withValidity(BigInteger otherValidAfter, BigInteger otherValidBefore) {
            return new TransferTerms(reservationId, payer, payee, amount, deadline, otherValidAfter, otherValidBefore,
                    nonce);
        }

        @Override
        public String toString() {
            return "reservation " + Numeric.toHexString(reservationId) + " payer " + payer + " amount " + amount
                    + " deadline " + deadline + " nonce " + Numeric.toHexString(nonce);
        }
    }
}
