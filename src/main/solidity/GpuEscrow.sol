// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/// @notice The parts of USDC (EIP-3009 transfer and receive with authorization, the EIP-712 domain) that the escrow
/// uses.
interface IUsdcAuthorizations {
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);

    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32);
}

/**
 * @title GpuEscrow
 * @notice Holds an agent's USDC for one GPU reservation until the broker's operator settles it.
 * The operator can only split a deposit between its payee and its payer (settle) or return it (refund); it can never
 * send the money anywhere else. If the operator does nothing, anyone can return the deposit to its payer once the
 * reservation's deadline plus a grace period has passed (reclaim), so a vanished broker cannot keep the money.
 * @dev For every reservation, once it is closed: amount == paidOut + refunded. At all times totalOpen is the sum of
 * the amounts of the deposits still open and the escrow's token balance is at least totalOpen; the difference
 * (unattributed()) is money that reached the escrow without a deposit, such as a stock x402 transfer that a third
 * party submitted straight to the token, which the operator can attribute with creditTransfer.
 * The reentrancy guard is the transient-storage one (EIP-1153, cancun, which Base has): same protection, about
 * 5,000 gas less per call than a guard kept in storage.
 */
contract GpuEscrow is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    enum State {
        None,
        Deposited,
        Settled,
        Refunded,
        Reclaimed
    }

    /**
     * @dev One storage slot per deposit. A fresh slot costs 22,100 gas, so the old three-slot layout (two written by
     * deposit, a third by settle) made a job cost three of them; this one costs one, and settle only rewrites it.
     * Payer and payee are stored as ids in the account registry below, because two 160-bit addresses alone do not
     * fit beside the amount in one slot. `refunded` is not stored: a closed deposit's refund is amount - paidOut.
     * uint72 holds 4.7e21 micro-USDC, thousands of times all USDC in existence; uint40 seconds reach the year 36812;
     * uint32 ids allow four billion distinct payers and payees.
     */
    struct Deposit {
        uint32 payerId;
        uint32 payeeId;
        uint72 amount;
        uint72 paidOut;
        uint40 deadline;
        State state;
    }

    /// @notice The longest grace period a deployment may set, so that the reclaim promise has a bound a payer can
    /// rely on without reading the constructor arguments of every deployment.
    uint256 public constant MAX_RECLAIM_GRACE_SECONDS = 30 days;

    /// @notice The furthest deadline a deposit made from a plain TransferWithAuthorization may have. That signature
    /// does not cover the deadline (the operator chooses it), so this bound is what keeps the reclaim promise: the
    /// money is back within MAX_TRANSFER_DEPOSIT_TERM_SECONDS + reclaimGraceSeconds of the deposit at the latest.
    uint256 public constant MAX_TRANSFER_DEPOSIT_TERM_SECONDS = 30 days;

    /// @dev 0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267, as in USDC (FiatToken v2).
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );

    IERC20 public immutable token;
    address public immutable operator;
    uint256 public immutable reclaimGraceSeconds;

    /// @notice The sum of the amounts of the deposits still open: what the escrow owes. Kept on chain so that the
    /// invariant token.balanceOf(escrow) >= totalOpen can be checked by anyone at any block.
    uint256 public totalOpen;

    /// @dev Every payer and payee gets an id the first time it appears, so that a deposit fits in one slot. The
    /// first deposit of a new address pays for its two registry slots once; every later one only reads them.
    uint32 private _accountCount;
    mapping(address account => uint32 id) private _accountIds;
    mapping(uint32 id => address account) private _accounts;

    mapping(bytes32 reservationId => Deposit) private _deposits;

    /// @dev The TransferWithAuthorization nonces creditTransfer has attributed, so that one transfer is credited once.
    mapping(address payer => mapping(bytes32 nonce => bool credited)) private _creditedTransfers;

    event Deposited(
        bytes32 indexed reservationId, address indexed payer, address indexed payee, uint256 amount, uint256 deadline
    );
    event Settled(bytes32 indexed reservationId, uint256 paidToPayee, uint256 refundedToPayer);
    event Refunded(bytes32 indexed reservationId, uint256 refundedToPayer);
    event Reclaimed(bytes32 indexed reservationId, uint256 refundedToPayer);
    event TransferCredited(bytes32 indexed reservationId, address indexed payer, bytes32 nonce);
    event TransferReturned(address indexed payer, bytes32 nonce, uint256 amount);

    error ZeroAddress();
    error ReclaimGraceTooLong(uint256 reclaimGraceSeconds, uint256 maximumSeconds);
    error CallerIsNotOperator(address caller);
    error ReservationAlreadyExists(bytes32 reservationId);
    error ZeroAmount();
    error AmountTooLarge(uint256 amount);
    error InvalidPayer(address payer);
    error InvalidPayee(address payee);
    error DeadlineNotInFuture(uint256 deadline, uint256 currentTimestamp);
    error DeadlineTooFar(uint256 deadline);
    error TransferDepositTermTooLong(uint256 deadline, uint256 latestDeadline);
    error ReceivedAmountMismatch(uint256 expected, uint256 received);
    error TransferNotSignedByPayer(address payer, address signer);
    error AuthorizationNotUsed(address payer, bytes32 nonce);
    error TransferAlreadyCredited(address payer, bytes32 nonce);
    error UnattributedBalanceTooLow(uint256 unattributed, uint256 amount);
    error ReservationNotOpen(bytes32 reservationId, State state);
    error UsedExceedsAmount(uint256 used, uint256 amount);
    error ReclaimTooEarly(uint256 reclaimableAfter, uint256 currentTimestamp);
    error EmptyBatch();
    error BatchLengthMismatch(uint256 reservations, uint256 usedAmounts);

    modifier onlyOperator() {
        if (msg.sender != operator) revert CallerIsNotOperator(msg.sender);
        _;
    }

    constructor(address token_, address operator_, uint256 reclaimGraceSeconds_) {
        if (token_ == address(0) || operator_ == address(0)) revert ZeroAddress();
        if (reclaimGraceSeconds_ > MAX_RECLAIM_GRACE_SECONDS) {
            revert ReclaimGraceTooLong(reclaimGraceSeconds_, MAX_RECLAIM_GRACE_SECONDS);
        }
        token = IERC20(token_);
        operator = operator_;
        reclaimGraceSeconds = reclaimGraceSeconds_;
    }

    /// @notice 2: has depositTransfer, creditTransfer, settleBatch, totalOpen and unattributed. Version 1 (no such
    /// function) reverts on this call, which is how the server tells the two apart.
    function version() external pure returns (uint256) {
        return 2;
    }

    /// @notice One reservation's deposit; state None (0) with zeros everywhere if there is none.
    function deposits(bytes32 reservationId)
        external
        view
        returns (
            address payer,
            address payee,
            uint256 amount,
            uint256 deadline,
            uint256 paidOut,
            uint256 refunded,
            uint8 state
        )
    {
        Deposit memory escrowed = _deposits[reservationId];
        bool closed = escrowed.state != State.None && escrowed.state != State.Deposited;
        return (
            _accounts[escrowed.payerId],
            _accounts[escrowed.payeeId],
            escrowed.amount,
            escrowed.deadline,
            escrowed.paidOut,
            closed ? escrowed.amount - escrowed.paidOut : 0,
            uint8(escrowed.state)
        );
    }

    /// @notice Money the escrow holds beyond its open deposits: tokens that arrived without a deposit (a transfer
    /// submitted straight to the token, a plain transfer by mistake). creditTransfer can attribute it.
    function unattributed() public view returns (uint256) {
        return token.balanceOf(address(this)) - totalOpen;
    }

    /// @notice Whether the TransferWithAuthorization (payer, nonce) was credited to a reservation or returned already.
    function transferCredited(address payer, bytes32 nonce) external view returns (bool) {
        return _creditedTransfers[payer][nonce];
    }

    /**
     * @notice The EIP-3009 nonce a payer must sign for a deposit with these terms.
     * @dev The payer's authorization already fixes the amount, the escrow (as `to`) and the validity window. Deriving
     * its nonce from the remaining terms fixes those too: whoever sees a signed authorization (in the mempool, in a
     * log, on the broker) can submit it only for this reservation, this payee and this deadline. Changing any of them
     * changes the nonce, the signature no longer verifies and the token reverts, so a front-runner cannot redirect
     * the money to another payee, attach it to another reservation or stretch the deadline that bounds the reclaim.
     */
    function depositNonce(bytes32 reservationId, address payee, uint256 deadline) public pure returns (bytes32) {
        return keccak256(abi.encode(reservationId, payee, deadline));
    }

    /**
     * @notice Pulls `amount` from `payer` into escrow for `reservationId`, on the strength of the payer's EIP-3009
     * ReceiveWithAuthorization signature, whose nonce must be depositNonce(reservationId, payee, deadline).
     * Anyone may submit it (typically the broker, which pays the gas).
     */
    function deposit(
        bytes32 reservationId,
        address payer,
        address payee,
        uint256 amount,
        uint256 deadline,
        uint256 validAfter,
        uint256 validBefore,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant {
        _requireNewDeposit(reservationId, payer, payee, amount, deadline);
        _record(reservationId, payer, payee, amount, deadline);
        _pullReceive(payer, amount, validAfter, validBefore, depositNonce(reservationId, payee, deadline), v, r, s);
    }

    /**
     * @notice Pulls `amount` from `payer` into escrow for `reservationId` with a plain EIP-3009
     * TransferWithAuthorization to the escrow, the signature a stock x402 `exact` client makes (random nonce).
     * @dev Operator only, unlike deposit: this signature covers neither the reservation, nor the payee, nor the
     * deadline, so whoever submits it chooses them. Anyone else could attach the payer's money to a reservation and
     * payee of their own making.
     */
    function depositTransfer(
        bytes32 reservationId,
        address payer,
        address payee,
        uint256 amount,
        uint256 deadline,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external onlyOperator nonReentrant {
        _requireNewDeposit(reservationId, payer, payee, amount, deadline);
        _requireTransferDepositTerm(deadline);
        _record(reservationId, payer, payee, amount, deadline);
        _pullTransfer(payer, amount, validAfter, validBefore, nonce, v, r, s);
    }

    /**
     * @notice Records a deposit for a TransferWithAuthorization to the escrow that someone else already submitted
     * straight to the token (anyone may, so a watcher of the mempool can make depositTransfer revert and leave the
     * money here unattributed). The payer's money then belongs to this reservation, as if depositTransfer had run.
     * @dev Operator only, for the reason given at depositTransfer. Before calling it the broker checks the token's
     * AuthorizationUsed(payer, nonce) and Transfer(payer, escrow, amount) in one transaction without a Deposited event
     * of this escrow. On chain: the signature is the payer's over exactly this transfer, the token reports the
     * authorization used, the escrow holds at least `amount` that no deposit accounts for, and the transfer has not
     * been credited before. USDC also reports cancelled authorizations as used; the unattributed balance check is what
     * keeps such a call from creating a deposit out of money that never arrived.
     */
    function creditTransfer(
        bytes32 reservationId,
        address payer,
        address payee,
        uint256 amount,
        uint256 deadline,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external onlyOperator nonReentrant {
        _requireNewDeposit(reservationId, payer, payee, amount, deadline);
        _requireTransferDepositTerm(deadline);
        _requireSignedTransfer(payer, amount, validAfter, validBefore, nonce, v, r, s);
        if (!IUsdcAuthorizations(address(token)).authorizationState(payer, nonce)) {
            revert AuthorizationNotUsed(payer, nonce);
        }
        uint256 available = unattributed();
        if (available < amount) revert UnattributedBalanceTooLow(available, amount);
        if (_creditedTransfers[payer][nonce]) revert TransferAlreadyCredited(payer, nonce);

        _creditedTransfers[payer][nonce] = true;
        _record(reservationId, payer, payee, amount, deadline);
        emit TransferCredited(reservationId, payer, nonce);
    }

    /**
     * @notice Sends back to its payer a TransferWithAuthorization to the escrow that someone else submitted straight to
     * the token after the broker had given up on the payment it was for (its own deposit failed, the reservation moved
     * on): the money reached the escrow for no reservation, so it goes home instead of staying unattributed.
     * @dev Operator only, with creditTransfer's checks: the payer's signature over exactly this transfer, the token
     * reporting the authorization used, that much unattributed money in the escrow, and the transfer neither credited
     * nor returned before (one mark for both, so a transfer is attributed or returned once, never both).
     */
    function returnTransfer(
        address payer,
        uint256 amount,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external onlyOperator nonReentrant {
        if (amount == 0) revert ZeroAmount();
        _requireSignedTransfer(payer, amount, validAfter, validBefore, nonce, v, r, s);
        if (!IUsdcAuthorizations(address(token)).authorizationState(payer, nonce)) {
            revert AuthorizationNotUsed(payer, nonce);
        }
        uint256 available = unattributed();
        if (available < amount) revert UnattributedBalanceTooLow(available, amount);
        if (_creditedTransfers[payer][nonce]) revert TransferAlreadyCredited(payer, nonce);

        _creditedTransfers[payer][nonce] = true;
        emit TransferReturned(payer, nonce, amount);
        token.safeTransfer(payer, amount);
    }

    /// @notice Closes a reservation: `used` goes to the payee and the rest back to the payer, in one transaction.
    function settle(bytes32 reservationId, uint256 used) external onlyOperator nonReentrant {
        Deposit storage escrowed = _open(reservationId);
        uint256 amount = escrowed.amount;
        uint256 unused = _closeSettled(escrowed, amount, used);
        totalOpen -= amount;
        emit Settled(reservationId, used, unused);

        if (used > 0) token.safeTransfer(_accounts[escrowed.payeeId], used);
        if (unused > 0) token.safeTransfer(_accounts[escrowed.payerId], unused);
    }

    /**
     * @notice Settles many reservations in one transaction, each exactly as settle would (same checks, same Settled
     * event); if any of them cannot be settled, none is.
     * @dev What makes it cheaper than settle per reservation: one transaction, one totalOpen write, and one token
     * transfer per run of consecutive reservations with the same payee (the broker has one payee, so usually one in
     * all) and per run with the same payer. The batch is bounded by the block gas limit, which the operator, the only
     * caller, sizes it to.
     */
    function settleBatch(bytes32[] calldata reservationIds, uint256[] calldata used)
        external
        onlyOperator
        nonReentrant
    {
        uint256 count = reservationIds.length;
        if (count == 0) revert EmptyBatch();
        if (used.length != count) revert BatchLengthMismatch(count, used.length);

        uint256 closedAmount;
        for (uint256 i; i < count; ++i) {
            Deposit storage escrowed = _open(reservationIds[i]);
            uint256 amount = escrowed.amount;
            uint256 unused = _closeSettled(escrowed, amount, used[i]);
            closedAmount += amount;
            emit Settled(reservationIds[i], used[i], unused);
        }
        totalOpen -= closedAmount;
        // Every deposit is closed and the books are written before any money moves.
        _payOutSettled(reservationIds);
    }

    /// @notice Closes a reservation that delivered nothing: the whole deposit goes back to the payer.
    function refund(bytes32 reservationId) external onlyOperator nonReentrant {
        Deposit storage escrowed = _open(reservationId);
        uint256 amount = _closeWithFullRefund(escrowed, State.Refunded);
        emit Refunded(reservationId, amount);
        token.safeTransfer(_accounts[escrowed.payerId], amount);
    }

    /// @notice Returns the whole deposit to its payer when the operator has neither settled nor refunded it by
    /// deadline + reclaimGraceSeconds. Anyone may call it, so the payer needs no help from the broker.
    function reclaim(bytes32 reservationId) external nonReentrant {
        Deposit storage escrowed = _open(reservationId);
        // deadline fits in 40 bits and the grace is at most 30 days, so this cannot overflow.
        uint256 reclaimableAfter = uint256(escrowed.deadline) + reclaimGraceSeconds;
        if (block.timestamp <= reclaimableAfter) revert ReclaimTooEarly(reclaimableAfter, block.timestamp);
        uint256 amount = _closeWithFullRefund(escrowed, State.Reclaimed);
        emit Reclaimed(reservationId, amount);
        token.safeTransfer(_accounts[escrowed.payerId], amount);
    }

    function _requireNewDeposit(bytes32 reservationId, address payer, address payee, uint256 amount, uint256 deadline)
        private
        view
    {
        if (_deposits[reservationId].state != State.None) revert ReservationAlreadyExists(reservationId);
        if (amount == 0) revert ZeroAmount();
        if (amount > type(uint72).max) revert AmountTooLarge(amount);
        if (payer == address(0)) revert InvalidPayer(payer);
        // Paying the escrow itself would strand the money outside every deposit's books.
        if (payee == address(0) || payee == address(this)) revert InvalidPayee(payee);
        if (deadline <= block.timestamp) revert DeadlineNotInFuture(deadline, block.timestamp);
        if (deadline > type(uint40).max) revert DeadlineTooFar(deadline);
    }

    function _requireTransferDepositTerm(uint256 deadline) private view {
        uint256 latestDeadline = block.timestamp + MAX_TRANSFER_DEPOSIT_TERM_SECONDS;
        if (deadline > latestDeadline) revert TransferDepositTermTooLong(deadline, latestDeadline);
    }

    /// @dev Writes the deposit and the books; the caller has checked the terms and moves (or has found) the money.
    function _record(bytes32 reservationId, address payer, address payee, uint256 amount, uint256 deadline) private {
        _deposits[reservationId] = Deposit({
            payerId: _accountId(payer),
            payeeId: _accountId(payee),
            amount: uint72(amount),
            paidOut: 0,
            deadline: uint40(deadline),
            state: State.Deposited
        });
        totalOpen += amount;
        emit Deposited(reservationId, payer, payee, amount, deadline);
    }

    function _accountId(address account) private returns (uint32 id) {
        id = _accountIds[account];
        if (id == 0) {
            // Checked arithmetic: the four billion and first account reverts rather than sharing an id.
            id = ++_accountCount;
            _accountIds[account] = id;
            _accounts[id] = account;
        }
    }

    /// @dev A function of its own only because deposit's ten parameters leave no stack room for the call.
    function _pullReceive(
        address payer,
        uint256 amount,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) private {
        uint256 balanceBefore = token.balanceOf(address(this));
        IUsdcAuthorizations(address(token)).receiveWithAuthorization(
            payer, address(this), amount, validAfter, validBefore, nonce, v, r, s
        );
        _requireReceived(balanceBefore, amount);
    }

    function _pullTransfer(
        address payer,
        uint256 amount,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) private {
        uint256 balanceBefore = token.balanceOf(address(this));
        IUsdcAuthorizations(address(token)).transferWithAuthorization(
            payer, address(this), amount, validAfter, validBefore, nonce, v, r, s
        );
        _requireReceived(balanceBefore, amount);
    }

    /// @dev USDC is an upgradeable proxy; the escrow counts what actually arrived rather than trusting that a future
    /// implementation moves exactly `amount`, because the balance invariant depends on it.
    function _requireReceived(uint256 balanceBefore, uint256 amount) private view {
        uint256 received = token.balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert ReceivedAmountMismatch(amount, received);
    }

    /// @dev The EIP-712 digest the token itself verifies for transferWithAuthorization, under the token's own domain;
    /// tryRecover refuses malleable (high s) and malformed signatures as the token does.
    function _requireSignedTransfer(
        address payer,
        uint256 amount,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) private view {
        bytes32 digest = MessageHashUtils.toTypedDataHash(
            IUsdcAuthorizations(address(token)).DOMAIN_SEPARATOR(),
            keccak256(
                abi.encode(
                    TRANSFER_WITH_AUTHORIZATION_TYPEHASH, payer, address(this), amount, validAfter, validBefore, nonce
                )
            )
        );
        (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(digest, v, r, s);
        if (error != ECDSA.RecoverError.NoError || signer != payer) revert TransferNotSignedByPayer(payer, signer);
    }

    function _open(bytes32 reservationId) private view returns (Deposit storage escrowed) {
        escrowed = _deposits[reservationId];
        if (escrowed.state != State.Deposited) revert ReservationNotOpen(reservationId, escrowed.state);
    }

    /// @return unused what goes back to the payer.
    function _closeSettled(Deposit storage escrowed, uint256 amount, uint256 used) private returns (uint256 unused) {
        if (used > amount) revert UsedExceedsAmount(used, amount);
        escrowed.state = State.Settled;
        escrowed.paidOut = uint72(used);
        unused = amount - used;
    }

    function _closeWithFullRefund(Deposit storage escrowed, State closedState) private returns (uint256 amount) {
        amount = escrowed.amount;
        escrowed.state = closedState;
        totalOpen -= amount;
    }

    /// @dev Pays the settled deposits of a batch: one transfer per run of consecutive deposits with the same payee,
    /// and one per run with the same payer.
    function _payOutSettled(bytes32[] calldata reservationIds) private {
        uint32 payeeId;
        uint256 payeeDue;
        uint32 payerId;
        uint256 payerDue;
        for (uint256 i; i < reservationIds.length; ++i) {
            Deposit memory settled = _deposits[reservationIds[i]];
            if (settled.payeeId != payeeId) {
                _pay(payeeId, payeeDue);
                (payeeId, payeeDue) = (settled.payeeId, 0);
            }
            payeeDue += settled.paidOut;
            if (settled.payerId != payerId) {
                _pay(payerId, payerDue);
                (payerId, payerDue) = (settled.payerId, 0);
            }
            payerDue += settled.amount - settled.paidOut;
        }
        _pay(payeeId, payeeDue);
        _pay(payerId, payerDue);
    }

    function _pay(uint32 accountId, uint256 amount) private {
        if (amount > 0) token.safeTransfer(_accounts[accountId], amount);
    }
}
