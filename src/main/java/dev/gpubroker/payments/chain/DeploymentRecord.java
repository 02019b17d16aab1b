package dev.gpubroker.payments.chain;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.gpubroker.config.PrivateFiles;
import dev.gpubroker.config.StartupRefusal;

/**
 * What the embedded chain's first start deployed, in {@code <data>/chain/deployment.json}: the test USDC, the escrow,
 * its operator (the relayer) and the demo seller it pays (recorded since 0.1; older records lack it). Its presence is
 * what says "balances live on this chain": the server never deploys over it ({@link ChainKeys}).
 */
record DeploymentRecord(String usdc, String escrow, String operator, String payee) {

    static final String FILE = "deployment.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    static Path fileIn(Path dataDir) {
        return dataDir.resolve("chain").resolve(FILE).toAbsolutePath().normalize();
    }

    /** The record, or empty when none was written. A record that cannot be read stops the start: it is not "none". */
    static Optional<DeploymentRecord> read(Path file) {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Map<String, String> fields;
        try {
            fields = JSON.readValue(file.toFile(), JSON.getTypeFactory().constructMapType(Map.class, String.class, String.class));
        } catch (IOException e) {
            throw new StartupRefusal("the deployment record " + file + " cannot be read (" + e.getMessage() + "): restore "
                    + "it from a backup; the server does not deploy new contracts over a recorded deployment", e);
        }
        if (fields.get("usdc") == null || fields.get("escrow") == null || fields.get("operator") == null) {
            throw new StartupRefusal("the deployment record " + file + " lacks usdc, escrow or operator: restore it from "
                    + "a backup; the server does not deploy new contracts over a recorded deployment");
        }
        return Optional.of(new DeploymentRecord(fields.get("usdc"), fields.get("escrow"), fields.get("operator"),
                fields.get("payee")));
    }

    void write(Path file) throws IOException {
        PrivateFiles.directory(file.getParent());
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("usdc", usdc);
        fields.put("escrow", escrow);
        fields.put("operator", operator);
        fields.put("payee", payee);
        Path temporary = file.resolveSibling(FILE + ".tmp");
        JSON.writerWithDefaultPrettyPrinter().writeValue(temporary.toFile(), fields);
        PrivateFiles.file(temporary);
        Files.move(temporary, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
