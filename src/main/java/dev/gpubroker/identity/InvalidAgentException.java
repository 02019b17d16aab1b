package dev.gpubroker.identity;

/** A request to create an agent that names a field wrong; nothing was created. */
public class InvalidAgentException extends RuntimeException {

    private final String field;

    public InvalidAgentException(String field, String message) {
        super(message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
