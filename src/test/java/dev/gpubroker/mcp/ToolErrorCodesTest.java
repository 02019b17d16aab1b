package dev.gpubroker.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import dev.gpubroker.payments.PayOutcome;
import dev.gpubroker.policy.PolicyViolation;
import dev.gpubroker.scheduler.ReserveOutcome;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every error code the code base can answer is declared in the schema of the tool that answers it, so that
 * docs/tools.md (generated from the schemas) lists them all: the enums of refusals, and every code written as a
 * literal where a refusal is made.
 */
class ToolErrorCodesTest {

    private static final Pattern LITERAL_CODE = Pattern.compile(
            "(?:new ToolError|refused|Refused|Refusal)\\(\\s*\"([a-z]+(?:_[a-z0-9]+)*)\"");

    private final Map<String, ToolContract> contracts = new ToolContractCatalog(JsonMapper.builder().build()).contracts()
            .stream().collect(Collectors.toMap(ToolContract::name, contract -> contract));

    ToolErrorCodesTest() throws IOException {
    }

    @Test
    void everyReasonAReservationOrAPaymentIsRefusedForIsDeclaredByItsTool() {
        assertThat(undeclared("reserve", Arrays.stream(ReserveOutcome.Reason.values()).map(Enum::name))).isEmpty();
        assertThat(undeclared("pay", Arrays.stream(PayOutcome.Reason.values()).map(Enum::name))).isEmpty();
        // run refuses a frozen agent or a pulled kill switch before anything else.
        assertThat(undeclared("run", Stream.of(PolicyViolation.Code.KILL_SWITCH.name(),
                PolicyViolation.Code.AGENT_FROZEN.name()))).isEmpty();
    }

    @Test
    void everyCodeWrittenWhereARefusalIsMadeIsDeclaredBySomeTool() throws IOException {
        Set<String> declared = new HashSet<>(ToolError.COMMON_CODES.keySet());
        contracts.values().forEach(contract -> declared.addAll(contract.errors().keySet()));
        Set<String> written = new TreeSet<>();
        try (Stream<Path> sources = Files.walk(Path.of("src/main/java"))) {
            for (Path source : sources.filter(path -> path.toString().endsWith(".java")).toList()) {
                Matcher matcher = LITERAL_CODE.matcher(Files.readString(source));
                while (matcher.find()) {
                    written.add(matcher.group(1));
                }
            }
        }
        assertThat(written).as("the scan finds the codes it is meant to").contains("job_not_found", "env_not_allowed",
                "escrow_not_open", "sandbox_unavailable");
        assertThat(written.stream().filter(code -> !declared.contains(code)).toList())
                .as("codes answered somewhere but declared by no tool schema").isEmpty();
    }

    @Test
    void aToolsSchemaDeclaresNoCodeTwiceAndNoCommonOne() {
        contracts.values().forEach(contract -> assertThat(contract.errors().keySet())
                .as(contract.name()).doesNotContainAnyElementsOf(ToolError.COMMON_CODES.keySet()));
    }

    private List<String> undeclared(String tool, Stream<String> enumNames) {
        ToolContract contract = contracts.get(tool);
        return enumNames.map(name -> name.toLowerCase(Locale.ROOT)).filter(code -> !contract.declares(code)).toList();
    }
}
