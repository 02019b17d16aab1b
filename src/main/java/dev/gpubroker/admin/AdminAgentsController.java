package dev.gpubroker.admin;

import java.net.URI;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.gpubroker.identity.Agent;
import dev.gpubroker.identity.AgentService;
import dev.gpubroker.policy.PolicyService;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Agents, for the operator. The agent's API key is in the creation answer and nowhere else, ever. */
@RestController
@RequestMapping(AdminRoutes.PREFIX + "/agents")
class AdminAgentsController {

    private final AgentService agents;
    private final PolicyService policies;

    AdminAgentsController(AgentService agents, PolicyService policies) {
        this.agents = agents;
        this.policies = policies;
    }

    record CreateAgentRequest(String name, String walletAddress) {
    }

    record CreatedAgentResponse(String agentId, String name, String apiKey, String walletAddress, String createdAt,
            String note) {
    }

    record AgentView(String agentId, String name, String walletAddress, String walletCustody, String createdAt,
            boolean frozen) {
    }

    @GetMapping
    Flux<AgentView> list(@RequestParam(defaultValue = "50") int limit, @RequestParam(defaultValue = "0") int offset) {
        Paging.check(limit, offset);
        return agents.list(limit, offset).concatMap(this::view);
    }

    @GetMapping("/{agentId}")
    Mono<AgentView> get(@PathVariable String agentId) {
        return existing(agentId).flatMap(this::view);
    }

    @PostMapping("/{agentId}/rotate-key")
    Mono<CreatedAgentResponse> rotateKey(@PathVariable String agentId) {
        return agents.rotateKey(agentId)
                .switchIfEmpty(Mono.error(new AdminProblems.NotFound("no agent " + agentId)))
                .map(rotated -> new CreatedAgentResponse(rotated.agent().agentId(), rotated.agent().name(), rotated.apiKey(),
                        rotated.agent().walletAddress(), rotated.agent().createdAt().toString(),
                        "the new apiKey is shown only now; the old one no longer works"));
    }

    @PostMapping("/{agentId}/freeze")
    Mono<AgentView> freeze(@PathVariable String agentId) {
        return existing(agentId).flatMap(agent -> policies.setFrozen(agentId, true)).then(get(agentId));
    }

    @PostMapping("/{agentId}/unfreeze")
    Mono<AgentView> unfreeze(@PathVariable String agentId) {
        return existing(agentId).flatMap(agent -> policies.setFrozen(agentId, false)).then(get(agentId));
    }

    private Mono<Agent> existing(String agentId) {
        return agents.find(agentId).switchIfEmpty(Mono.error(new AdminProblems.NotFound("no agent " + agentId)));
    }

    private Mono<AgentView> view(Agent agent) {
        return policies.policyOf(agent.agentId()).map(policy -> new AgentView(agent.agentId(), agent.name(),
                agent.walletAddress(), agent.custody().name().toLowerCase(java.util.Locale.ROOT),
                agent.createdAt().toString(), policy.frozen()));
    }

    @PostMapping
    Mono<ResponseEntity<CreatedAgentResponse>> create(@RequestBody CreateAgentRequest request) {
        return agents.create(request.name(), request.walletAddress())
                .map(created -> ResponseEntity.status(HttpStatus.CREATED)
                        .location(URI.create(AdminRoutes.PREFIX + "/agents/" + created.agent().agentId()))
                        .body(new CreatedAgentResponse(created.agent().agentId(), created.agent().name(), created.apiKey(),
                                created.agent().walletAddress(), created.agent().createdAt().toString(),
                                "the apiKey is shown only now; store it where the agent can read it")));
    }

}
