package dev.gpubroker.contracts;

import static dev.gpubroker.contracts.Eip712.CANCEL_AUTHORIZATION_TYPEHASH;
import static dev.gpubroker.contracts.Eip712.PERMIT_TYPEHASH;
import static dev.gpubroker.contracts.Eip712.RECEIVE_WITH_AUTHORIZATION_TYPEHASH;
import static dev.gpubroker.contracts.Eip712.TRANSFER_WITH_AUTHORIZATION_TYPEHASH;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.math.BigInteger;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Bool;
import org.web3j.abi.datatypes.Utf8String;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.abi.datatypes.generated.Uint8;
import org.web3j.crypto.Credentials;
import org.web3j.utils.Numeric;

import dev.gpubroker.contracts.ContractClient.Sent;
import dev.gpubroker.contracts.Eip712.Authorization;
import dev.gpubroker.contracts.Eip712.Signature;
import dev.gpubroker.support.AnvilNode;

/** TestUsdc behaves like USDC on Base where GPU Broker depends on it: decimals, EIP-712 domain, EIP-3009, permit. */
class TestUsdcContractTest {

    private static final BigInteger HUNDRED_USDC = BigInteger.valueOf(100_000_000);

    private static AnvilNode anvil;
    private static ContractClient chain;

    private Credentials owner;
    private Credentials holder;
    private Credentials recipient;
    private Credentials stranger;
    private String usdc;
    private byte[] domainSeparator;

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
    void deployAndFundTheHolder() throws IOException {
        owner = anvil.account(0);
        holder = anvil.account(1);
        recipient = anvil.account(2);
        stranger = anvil.account(3);
        usdc = chain.deployed(owner, "TestUsdc");
        domainSeparator = Eip712.usdcDomainSeparator(AnvilNode.CHAIN_ID, usdc);
        assertThat(chain.send(owner, usdc, "mint", new Address(holder.getAddress()), new Uint256(HUNDRED_USDC))
                .succeeded()).isTrue();
    }

    @Test
    void itCallsItselfUsdCoinWithSixDecimalsLikeUsdc() throws IOException {
        assertThat(chain.call(usdc, "name", List.of(), List.of(new TypeReference<Utf8String>() {})).getFirst()
                .getValue()).isEqualTo("USD Coin");
        assertThat(chain.call(usdc, "symbol", List.of(), List.of(new TypeReference<Utf8String>() {})).getFirst()
                .getValue()).isEqualTo("USDC");
        assertThat(chain.call(usdc, "decimals", List.of(), List.of(new TypeReference<Uint8>() {})).getFirst()
                .getValue()).isEqualTo(BigInteger.valueOf(6));
    }

    @Test
    void itsDomainSeparatorIsTheEip712DomainOfUsdCoinVersionTwoComputedInJava() throws IOException {
        assertThat(Numeric.toHexString(chain.callBytes32(usdc, "DOMAIN_SEPARATOR")))
                .isEqualTo(Numeric.toHexString(domainSeparator));
    }

    @Test
    void itsTypehashesAreThoseOfFiatTokenV2() throws IOException {
        assertThat(Numeric.toHexString(TRANSFER_WITH_AUTHORIZATION_TYPEHASH))
                .isEqualTo("0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267");
        assertThat(chain.callBytes32(usdc, "TRANSFER_WITH_AUTHORIZATION_TYPEHASH"))
                .isEqualTo(TRANSFER_WITH_AUTHORIZATION_TYPEHASH);
        assertThat(chain.callBytes32(usdc, "RECEIVE_WITH_AUTHORIZATION_TYPEHASH"))
                .isEqualTo(RECEIVE_WITH_AUTHORIZATION_TYPEHASH);
        assertThat(chain.callBytes32(usdc, "CANCEL_AUTHORIZATION_TYPEHASH")).isEqualTo(CANCEL_AUTHORIZATION_TYPEHASH);
        assertThat(chain.callBytes32(usdc, "PERMIT_TYPEHASH")).isEqualTo(PERMIT_TYPEHASH);
    }

    @Test
    void onlyTheOwnerMayMint() throws IOException {
        Sent minted = chain.send(stranger, usdc, "mint", new Address(stranger.getAddress()), new Uint256(1));

        assertThat(minted.succeeded()).isFalse();
        assertThat(minted.revertReason()).isEqualTo("OwnableUnauthorizedAccount(" + stranger.getAddress() + ")");
        assertThat(chain.balanceOf(usdc, stranger.getAddress())).isZero();
    }

    @Test
    void aTransferWithAuthorizationSubmittedByAnyoneMovesTheValueOnceAndOnlyOnce() throws IOException {
        Authorization authorization = authorization(recipient, BigInteger.valueOf(30_000_000), Eip712.randomBytes32());
        Signature signature = authorization.sign(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, domainSeparator, holder);

        Sent first = submit(stranger, "transferWithAuthorization", authorization, signature);
        Sent replay = submit(stranger, "transferWithAuthorization", authorization, signature);

        assertThat(first.succeeded()).isTrue();
        assertThat(first.logs(usdc, "AuthorizationUsed(address,bytes32)")).hasSize(1);
        assertThat(replay.succeeded()).isFalse();
        assertThat(replay.revertReason()).isEqualTo("FiatTokenV2: authorization is used or canceled");
        assertThat(chain.balanceOf(usdc, recipient.getAddress())).isEqualTo(BigInteger.valueOf(30_000_000));
        assertThat(chain.balanceOf(usdc, holder.getAddress())).isEqualTo(BigInteger.valueOf(70_000_000));
        assertThat(authorizationState(holder, authorization.nonce())).isTrue();
    }

    @Test
    void aReceiveWithAuthorizationRefusesEveryCallerButThePayee() throws IOException {
        Authorization authorization = authorization(recipient, BigInteger.valueOf(5_000_000), Eip712.randomBytes32());
        Signature signature = authorization.sign(RECEIVE_WITH_AUTHORIZATION_TYPEHASH, domainSeparator, holder);

        Sent byStranger = submit(stranger, "receiveWithAuthorization", authorization, signature);
        Sent byPayee = submit(recipient, "receiveWithAuthorization", authorization, signature);

        assertThat(byStranger.succeeded()).isFalse();
        assertThat(byStranger.revertReason()).isEqualTo("FiatTokenV2: caller must be the payee");
        assertThat(byPayee.succeeded()).isTrue();
        assertThat(chain.balanceOf(usdc, recipient.getAddress())).isEqualTo(BigInteger.valueOf(5_000_000));
    }

    @Test
    void aTransferSignatureCannotBeUsedAsAReceiveSignature() throws IOException {
        Authorization authorization = authorization(recipient, BigInteger.valueOf(5_000_000), Eip712.randomBytes32());
        Signature transferSignature = authorization.sign(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, domainSeparator, holder);

        Sent received = submit(recipient, "receiveWithAuthorization", authorization, transferSignature);

        assertThat(received.revertReason()).isEqualTo("FiatTokenV2: invalid signature");
        assertThat(chain.balanceOf(usdc, recipient.getAddress())).isZero();
    }

    @Test
    void aCanceledAuthorizationCanNoLongerBeUsed() throws IOException {
        Authorization authorization = authorization(recipient, BigInteger.valueOf(5_000_000), Eip712.randomBytes32());
        Signature signature = authorization.sign(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, domainSeparator, holder);

        Sent canceled = cancel(stranger, holder, authorization.nonce(), holder);
        Sent transferred = submit(stranger, "transferWithAuthorization", authorization, signature);
        Sent canceledAgain = cancel(stranger, holder, authorization.nonce(), holder);

        assertThat(canceled.succeeded()).isTrue();
        assertThat(canceled.logs(usdc, "AuthorizationCanceled(address,bytes32)")).hasSize(1);
        assertThat(transferred.revertReason()).isEqualTo("FiatTokenV2: authorization is used or canceled");
        assertThat(canceledAgain.revertReason()).isEqualTo("FiatTokenV2: authorization is used or canceled");
        assertThat(chain.balanceOf(usdc, holder.getAddress())).isEqualTo(HUNDRED_USDC);
    }

    @Test
    void nobodyButTheAuthorizerCanCancelTheirAuthorization() throws IOException {
        byte[] nonce = Eip712.randomBytes32();

        Sent canceled = cancel(stranger, holder, nonce, stranger);

        assertThat(canceled.revertReason()).isEqualTo("FiatTokenV2: invalid signature");
        assertThat(authorizationState(holder, nonce)).isFalse();
    }

    @Test
    void anAuthorizationIsRefusedBeforeItsWindowOpensAndAfterItCloses() throws IOException {
        long now = chain.latestTimestamp();
        Authorization early = new Authorization(holder.getAddress(), recipient.getAddress(), BigInteger.ONE,
                BigInteger.valueOf(now + 3_600), BigInteger.valueOf(now + 7_200), Eip712.randomBytes32());
        Authorization late = new Authorization(holder.getAddress(), recipient.getAddress(), BigInteger.ONE,
                BigInteger.ZERO, BigInteger.valueOf(now - 1), Eip712.randomBytes32());

        Sent tooEarly = submit(stranger, "transferWithAuthorization", early,
                early.sign(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, domainSeparator, holder));
        Sent tooLate = submit(stranger, "transferWithAuthorization", late,
                late.sign(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, domainSeparator, holder));

        assertThat(tooEarly.revertReason()).isEqualTo("FiatTokenV2: authorization is not yet valid");
        assertThat(tooLate.revertReason()).isEqualTo("FiatTokenV2: authorization is expired");
        assertThat(chain.balanceOf(usdc, recipient.getAddress())).isZero();
    }

    @Test
    void aPermitSignedOverTheVersionTwoDomainSetsTheAllowanceOnce() throws IOException {
        BigInteger deadline = BigInteger.valueOf(chain.latestTimestamp() + 3_600);
        byte[] structHash = Eip712.keccakOfAbiEncoded(new Bytes32(PERMIT_TYPEHASH), new Address(holder.getAddress()),
                new Address(recipient.getAddress()), new Uint256(HUNDRED_USDC), new Uint256(0), new Uint256(deadline));
        Signature signature = Eip712.sign(domainSeparator, structHash, holder);

        Sent permitted = permit(deadline, signature);
        Sent replayed = permit(deadline, signature);

        assertThat(permitted.succeeded()).isTrue();
        assertThat(chain.callUint(usdc, "allowance", new Address(holder.getAddress()),
                new Address(recipient.getAddress()))).isEqualTo(HUNDRED_USDC);
        assertThat(chain.callUint(usdc, "nonces", new Address(holder.getAddress()))).isEqualTo(BigInteger.ONE);
        assertThat(replayed.revertReason()).isEqualTo("EIP2612: invalid signature");
    }

    private Sent permit(BigInteger deadline, Signature signature) throws IOException {
        return chain.send(stranger, usdc, "permit", new Address(holder.getAddress()),
                new Address(recipient.getAddress()), new Uint256(HUNDRED_USDC), new Uint256(deadline), signature.v(),
                signature.r(), signature.s());
    }

    private Authorization authorization(Credentials to, BigInteger value, byte[] nonce) throws IOException {
        return new Authorization(holder.getAddress(), to.getAddress(), value, BigInteger.ZERO,
                BigInteger.valueOf(chain.latestTimestamp() + 3_600), nonce);
    }

    private Sent submit(Credentials sender, String functionName, Authorization authorization, Signature signature)
            throws IOException {
        return chain.send(sender, usdc, functionName, new Address(authorization.from()),
                new Address(authorization.to()), new Uint256(authorization.value()),
                new Uint256(authorization.validAfter()), new Uint256(authorization.validBefore()),
                new Bytes32(authorization.nonce()), signature.v(), signature.r(), signature.s());
    }

    private Sent cancel(Credentials sender, Credentials authorizer, byte[] nonce, Credentials signer)
            throws IOException {
        byte[] structHash = Eip712.keccakOfAbiEncoded(new Bytes32(CANCEL_AUTHORIZATION_TYPEHASH),
                new Address(authorizer.getAddress()), new Bytes32(nonce));
        Signature signature = Eip712.sign(domainSeparator, structHash, signer);
        return chain.send(sender, usdc, "cancelAuthorization", new Address(authorizer.getAddress()),
                new Bytes32(nonce), signature.v(), signature.r(), signature.s());
    }

    private boolean authorizationState(Credentials authorizer, byte[] nonce) throws IOException {
        return (Boolean) chain.call(usdc, "authorizationState",
                List.of(new Address(authorizer.getAddress()), new Bytes32(nonce)),
                List.of(new TypeReference<Bool>() {})).getFirst().getValue();
    }
}
