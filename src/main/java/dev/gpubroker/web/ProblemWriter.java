package dev.gpubroker.web;

import java.net.URI;

import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;

import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes an RFC 9457 problem+json response outside a controller: from a security handler or a filter, where no
 * exception handler runs. Problem types live under {@value #TYPE_BASE}.
 */
@Component
public class ProblemWriter {

    public static final String TYPE_BASE = "https://gpubroker.dev/problems/";

    private final JsonMapper json;

    public ProblemWriter(JsonMapper json) {
        this.json = json;
    }

    /** A problem of type {@code TYPE_BASE + type}; {@code field} names the part of the request at fault, or is null. */
    public static ProblemDetail problem(HttpStatus status, String type, String title, String detail, String field) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setType(URI.create(TYPE_BASE + type));
        problem.setTitle(title);
        if (field != null) {
            problem.setProperty("field", field);
        }
        return problem;
    }

    public Mono<Void> write(ServerWebExchange exchange, ProblemDetail problem) {
        return Mono.defer(() -> {
            var response = exchange.getResponse();
            if (response.isCommitted()) {
                return Mono.empty();
            }
            response.setStatusCode(HttpStatusCode.valueOf(problem.getStatus()));
            response.getHeaders().setContentType(MediaType.APPLICATION_PROBLEM_JSON);
            byte[] body = json.writeValueAsBytes(problem);
            response.getHeaders().setContentLength(body.length);
            return response.writeWith(Mono.just(response.bufferFactory().wrap(body)));
        });
    }
}
