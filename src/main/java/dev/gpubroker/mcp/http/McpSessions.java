package dev.gpubroker.mcp.http;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Which agent opened each MCP session over HTTP. A session is usable only by the agent that opened it: a request that
 * names another agent's session, or one this server does not know, is answered as if the session did not exist. The
 * registry is bounded: an agent keeps at most {@value #PER_AGENT_MAX} sessions and the server {@value #TOTAL_MAX}; past
 * that the oldest is forgotten (clients that vanish without closing their session leave it behind).
 */
final class McpSessions {

    static final int PER_AGENT_MAX = 64;
    static final int TOTAL_MAX = 10_000;

    private final Map<String, String> ownerBySession = new LinkedHashMap<>();
    private final Map<String, Deque<String>> sessionsByAgent = new HashMap<>();

    synchronized void bind(String sessionId, String agentId) {
        if (ownerBySession.containsKey(sessionId)) {
            return;
        }
        Deque<String> ofAgent = sessionsByAgent.computeIfAbsent(agentId, id -> new ArrayDeque<>());
        if (ofAgent.size() >= PER_AGENT_MAX) {
            forgetLocked(ofAgent.peekFirst());
        }
        if (ownerBySession.size() >= TOTAL_MAX) {
            Iterator<String> oldest = ownerBySession.keySet().iterator();
            forgetLocked(oldest.next());
        }
        ownerBySession.put(sessionId, agentId);
        sessionsByAgent.computeIfAbsent(agentId, id -> new ArrayDeque<>()).addLast(sessionId);
    }

    synchronized Optional<String> ownerOf(String sessionId) {
        return Optional.ofNullable(sessionId == null ? null : ownerBySession.get(sessionId));
    }

    synchronized void forget(String sessionId) {
        forgetLocked(sessionId);
    }

    synchronized int size() {
        return ownerBySession.size();
    }

    private void forgetLocked(String sessionId) {
        String agentId = ownerBySession.remove(sessionId);
        if (agentId == null) {
            return;
        }
        Deque<String> ofAgent = sessionsByAgent.get(agentId);
        ofAgent.remove(sessionId);
        if (ofAgent.isEmpty()) {
            sessionsByAgent.remove(agentId);
        }
    }
}
