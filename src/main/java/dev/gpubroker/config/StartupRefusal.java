package dev.gpubroker.config;

/**
 * The server will not start, for a reason its operator can fix: the message names what is wrong (a file, a setting)
 * and what to do. Reported as that message alone ({@link StartupRefusalAnalyzer}), never as a stack trace, because it is
 * not a bug.
 */
public class StartupRefusal extends RuntimeException {

    public StartupRefusal(String message) {
        super(message);
    }

    public StartupRefusal(String message, Throwable cause) {
        super(message, cause);
    }

    /** The refusal anywhere in a chain of causes (Spring wraps it in bean creation exceptions), or null. */
    public static StartupRefusal findIn(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof StartupRefusal refusal) {
                return refusal;
            }
        }
        return null;
    }
}
