// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @notice The part of EIP-3009 (USDC's transfer with authorization) that the escrow uses.
interface IReceiveWithAuthorization {
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
}

/**
 * @title GpuEscrow
 * @notice Holds an agent's USDC for one GPU reservation until the broker's operator settles it.
 * The operator can only split a deposit between its payee and its payer (settle) or return it (refund); it can never
 * send the money anywhere else. If the operator does nothing, anyone can return the deposit to its payer once the
 * reservation's deadline plus a grace period has passed (reclaim), so a vanished broker cannot keep the money.
 * @dev For every reservation, once it is closed: amount == paidOut + refunded. At all times the escrow's token
 * balance equals the sum of the amounts of the deposits still open.
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

    /// @dev Packed into three slots (a deposit writes two fresh slots instead of five, about 66,000 gas less).
    /// uint96 holds 7.9e28 micro-USDC, far beyond any supply; uint64 seconds outlast the sun.
    struct Deposit {
        address payer;
        uint64 deadline;
        State state;
        address payee;
        uint96 amount;
        uint96 paidOut;
        uint96 refunded;
    }

    /// @notice The longest grace period a deployment may set, so that the reclaim promise has a bound a payer can
    /// rely on without reading the constructor arguments of every deployment.
    uint256 public constant MAX_RECLAIM_GRACE_SECONDS = 30 days;

    IERC20 public immutable token;
    address public immutable operator;
    uint256 public immutable reclaimGraceSeconds;

    mapping(bytes32 reservationId => Deposit) private _deposits;

    event Deposited(
        bytes32 indexed reservationId, address indexed payer, address indexed payee, uint256 amount, uint256 deadline
    );
    event Settled(bytes32 indexed reservationId, uint256 paidToPayee, uint256 refundedToPayer);
    event Refunded(bytes32 indexed reservationId, uint256 refundedToPayer);
    event Reclaimed(bytes32 indexed reservationId, uint256 refundedToPayer);

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
    error ReceivedAmountMismatch(uint256 expected, uint256 received);
    error ReservationNotOpen(bytes32 reservationId, State state);
    error UsedExceedsAmount(uint256 used, uint256 amount);
    error ReclaimTooEarly(uint256 reclaimableAfter, uint256 currentTimestamp);

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
        Deposit storage escrowed = _deposits[reservationId];
        return (
            escrowed.payer,
            escrowed.payee,
            escrowed.amount,
            escrowed.deadline,
            escrowed.paidOut,
            escrowed.refunded,
            uint8(escrowed.state)
        );
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
        if (_deposits[reservationId].state != State.None) revert ReservationAlreadyExists(reservationId);
        if (amount == 0) revert ZeroAmount();
        if (amount > type(uint96).max) revert AmountTooLarge(amount);
        if (payer == address(0)) revert InvalidPayer(payer);
        // Paying the escrow itself would strand the money outside every deposit's books.
        if (payee == address(0) || payee == address(this)) revert InvalidPayee(payee);
        if (deadline <= block.timestamp) revert DeadlineNotInFuture(deadline, block.timestamp);
        if (deadline > type(uint64).max) revert DeadlineTooFar(deadline);

        _deposits[reservationId] = Deposit({
            payer: payer,
            deadline: uint64(deadline),
            state: State.Deposited,
            payee: payee,
            amount: uint96(amount),
            paidOut: 0,
            refunded: 0
        });
        emit Deposited(reservationId, payer, payee, amount, deadline);

        _pull(payer, amount, validAfter, validBefore, depositNonce(reservationId, payee, deadline), v, r, s);
    }

    /// @notice Closes a reservation: `used` goes to the payee and the rest back to the payer, in one transaction.
    function settle(bytes32 reservationId, uint256 used) external onlyOperator nonReentrant {
        Deposit storage escrowed = _open(reservationId);
        uint96 amount = escrowed.amount;
        if (used > amount) revert UsedExceedsAmount(used, amount);
        uint96 unused = amount - uint96(used);

        escrowed.state = State.Settled;
        escrowed.paidOut = uint96(used);
        escrowed.refunded = unused;
        emit Settled(reservationId, used, unused);

        if (used > 0) token.safeTransfer(escrowed.payee, used);
        if (unused > 0) token.safeTransfer(escrowed.payer, unused);
    }

    /// @notice Closes a reservation that delivered nothing: the whole deposit goes back to the payer.
    function refund(bytes32 reservationId) external onlyOperator nonReentrant {
        Deposit storage escrowed = _open(reservationId);
        uint96 amount = _closeWithFullRefund(escrowed, State.Refunded);
        emit Refunded(reservationId, amount);
        token.safeTransfer(escrowed.payer, amount);
    }

    /// @notice Returns the whole deposit to its payer when the operator has neither settled nor refunded it by
    /// deadline + reclaimGraceSeconds. Anyone may call it, so the payer needs no help from the broker.
    function reclaim(bytes32 reservationId) external nonReentrant {
        Deposit storage escrowed = _open(reservationId);
        // deadline fits in 64 bits and the grace is at most 30 days, so this cannot overflow.
        uint256 reclaimableAfter = uint256(escrowed.deadline) + reclaimGraceSeconds;
        if (block.timestamp <= reclaimableAfter) revert ReclaimTooEarly(reclaimableAfter, block.timestamp);
        uint96 amount = _closeWithFullRefund(escrowed, State.Reclaimed);
        emit Reclaimed(reservationId, amount);
        token.safeTransfer(escrowed.payer, amount);
    }

    /// @dev A function of its own only because deposit's ten parameters leave no stack room for the call.
    function _pull(
        address payer,
        uint256 amount,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) private {
        // USDC is an upgradeable proxy; the escrow counts what actually arrived rather than trusting that a future
        // implementation moves exactly `amount`, because the balance invariant depends on it.
        uint256 balanceBefore = token.balanceOf(address(this));
        IReceiveWithAuthorization(address(token)).receiveWithAuthorization(
            payer, address(this), amount, validAfter, validBefore, nonce, v, r, s
        );
        uint256 received = token.balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert ReceivedAmountMismatch(amount, received);
    }

    function _open(bytes32 reservationId) private view returns (Deposit storage escrowed) {
        escrowed = _deposits[reservationId];
        if (escrowed.state != State.Deposited) revert ReservationNotOpen(reservationId, escrowed.state);
    }

    function _closeWithFullRefund(Deposit storage escrowed, State closedState) private returns (uint96 amount) {
        amount = escrowed.amount;
        escrowed.state = closedState;
        escrowed.refunded = amount;
    }
}
