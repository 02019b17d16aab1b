package dev.gpubroker.payments.chain;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

import org.springframework.core.io.ClassPathResource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** A compiled contract from src/main/resources/contracts (built by scripts/compile-contracts.mjs). */
public record ContractArtifact(String name, String bytecode) {

    public static ContractArtifact load(String name) {
        try (InputStream in = new ClassPathResource("contracts/" + name + ".json").getInputStream()) {
            JsonNode artifact = new ObjectMapper().readTree(in);
            String bytecode = artifact.path("bytecode").asText();
            if (!bytecode.startsWith("0x") || bytecode.length() < 4) {
                throw new IllegalStateException("contracts/" + name + ".json has no bytecode");
            }
            return new ContractArtifact(name, bytecode);
        } catch (IOException e) {
            throw new UncheckedIOException("contracts/" + name + ".json is missing from the classpath", e);
        }
    }
}
