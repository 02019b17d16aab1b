package dev.gpubroker.config;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Spring Boot reports a {@link StartupRefusal} as its message, with no stack trace: it is an operator's to fix. */
public class StartupRefusalAnalyzer extends AbstractFailureAnalyzer<StartupRefusal> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, StartupRefusal refusal) {
        return new FailureAnalysis(refusal.getMessage(), "Fix what the description names, then start GPU Broker again.",
                refusal);
    }
}
