package dev.gpubroker.admin;

import java.net.URI;

import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebInputException;

import dev.gpubroker.identity.AgentService;
import dev.gpubroker.identity.InvalidAgentException;
import reactor.core.publisher.Mono;

/** Agents, for the operator. The agent's API key is in the creation answer and nowhere else, ever. */
@RestController
@RequestMapping(AdminAuthenticationFilter.PREFIX + "/agents")
class AdminAgentsController {

    private final AgentService agents;

    AdminAgentsController(AgentService agents) {
        this.agents = agents;
    }

    record CreateAgentRequest(String name, String walletAddress) {
    }

    record CreatedAgentResponse(String agentId, String name, String apiKey, String walletAddress, String createdAt,
            String note) {
    }

    @PostMapping
    Mono<ResponseEntity<CreatedAgentResponse>> create(@RequestBody CreateAgentRequest request) {
        return agents.create(request.name(), request.walletAddress())
                .map(created -> ResponseEntity.status(HttpStatus.CREATED)
                        .location(URI.create(AdminAuthenticationFilter.PREFIX + "/agents/" + created.agent().agentId()))
                        .body(new CreatedAgentResponse(created.agent().agentId(), created.agent().name(), created.apiKey(),
                                created.agent().walletAddress(), created.agent().createdAt().toString(),
                                "the apiKey is shown only now; store it where the agent can read it")));
    }

    @ExceptionHandler(InvalidAgentException.class)
    ProblemDetail invalid(InvalidAgentException e) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, e.getMessage());
        problem.setType(URI.create("https://gpubroker.dev/problems/invalid-field"));
        problem.setTitle("Invalid field");
        problem.setProperty("field", e.field());
        return problem;
    }

    @ExceptionHandler(ServerWebInputException.class)
    ProblemDetail unreadable(ServerWebInputException e) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST,
                "the body is not the JSON this endpoint takes: {\"name\": \"...\", \"walletAddress\": \"0x...\" (optional)}");
        problem.setType(URI.create("https://gpubroker.dev/problems/unreadable-body"));
        problem.setTitle("Unreadable body");
        return problem;
    }
}
