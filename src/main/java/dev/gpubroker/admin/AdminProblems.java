package dev.gpubroker.admin;

import org.springframework.core.MethodParameter;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.server.ServerWebInputException;

import dev.gpubroker.identity.InvalidAgentException;
import dev.gpubroker.policy.InvalidPolicyException;
import dev.gpubroker.web.ProblemWriter;

/** RFC 9457 problems for every admin endpoint: what was wrong, and the field at fault when there is one. */
@RestControllerAdvice(basePackageClasses = AdminProblems.class)
class AdminProblems {

    /** Something the operator named does not exist. */
    static final class NotFound extends RuntimeException {
        NotFound(String message) {
            super(message);
        }
    }

    /** The request is well-formed but names a field wrong. */
    static final class InvalidField extends RuntimeException {
        private final String field;

        InvalidField(String field, String message) {
            super(message);
            this.field = field;
        }
    }

    /** The request conflicts with the current state (an approval already decided, a reservation already closed). */
    static final class Conflict extends RuntimeException {
        Conflict(String message) {
            super(message);
        }
    }

    @ExceptionHandler(NotFound.class)
    ProblemDetail notFound(NotFound e) {
        return problem(HttpStatus.NOT_FOUND, "not-found", "Not found", e.getMessage(), null);
    }

    @ExceptionHandler(Conflict.class)
    ProblemDetail conflict(Conflict e) {
        return problem(HttpStatus.CONFLICT, "conflict", "Conflict", e.getMessage(), null);
    }

    @ExceptionHandler(InvalidField.class)
    ProblemDetail invalidField(InvalidField e) {
        return problem(HttpStatus.BAD_REQUEST, "invalid-field", "Invalid field", e.getMessage(), e.field);
    }

    @ExceptionHandler(InvalidAgentException.class)
    ProblemDetail invalidAgent(InvalidAgentException e) {
        return problem(HttpStatus.BAD_REQUEST, "invalid-field", "Invalid field", e.getMessage(), e.field());
    }

    @ExceptionHandler(InvalidPolicyException.class)
    ProblemDetail invalidPolicy(InvalidPolicyException e) {
        return problem(HttpStatus.BAD_REQUEST, "invalid-field", "Invalid field", e.getMessage(), e.field());
    }

    /** A body that is not JSON of the right shape, or a parameter of the wrong type: named, without the parser's words. */
    @ExceptionHandler(ServerWebInputException.class)
    ProblemDetail unreadable(ServerWebInputException e) {
        MethodParameter parameter = e.getMethodParameter();
        if (parameter == null || parameter.hasParameterAnnotation(RequestBody.class)) {
            return problem(HttpStatus.BAD_REQUEST, "unreadable-body", "Unreadable body",
                    "the body is missing or is not the JSON this endpoint takes; see /admin/v1/openapi.json", "body");
        }
        String name = parameter.getParameterName();
        return problem(HttpStatus.BAD_REQUEST, "invalid-field", "Invalid field",
                name + " is not what this endpoint takes; see /admin/v1/openapi.json", name);
    }

    static ProblemDetail problem(HttpStatus status, String type, String title, String detail, String field) {
        return ProblemWriter.problem(status, type, title, detail, field);
    }
}
