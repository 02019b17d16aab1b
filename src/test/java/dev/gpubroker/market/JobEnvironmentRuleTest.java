package dev.gpubroker.market;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** Which variables an agent may give its job: one rule each. */
class JobEnvironmentRuleTest {

    private static final Set<String> PROVIDER = Set.of("PATH", "HOME", "CUDA_VISIBLE_DEVICES");

    @Test
    void ordinaryVariablesAreAllowed() {
        assertThat(check(Map.of("HF_TOKEN", "hf_x", "WANDB_API_KEY", "k", "EPOCHS", "3", "PYTHONUNBUFFERED", "1",
                "MULTI", "line one\nline two"))).isEmpty();
    }

    @Test
    void loaderVariablesAreRefusedNamingTheVariable() {
        assertThat(check(Map.of("LD_PRELOAD", "/work/evil.so"))).hasValueSatisfying(refusal -> {
            assertThat(refusal.variable()).isEqualTo("LD_PRELOAD");
            assertThat(refusal.why()).contains("dynamic loader");
        });
        assertThat(check(Map.of("LD_LIBRARY_PATH", "/work"))).map(JobEnvironmentRule.Refusal::variable)
                .hasValue("LD_LIBRARY_PATH");
        assertThat(check(Map.of("LD_AUDIT", "x"))).isPresent();
    }

    @Test
    void variablesGlibcReadsInEveryProgramAreRefused() {
        for (String name : new String[] {"GLIBC_TUNABLES", "GCONV_PATH", "LOCPATH", "MALLOC_TRACE", "HOSTALIASES",
                "RES_OPTIONS", "NLSPATH", "TZDIR"}) {
            assertThat(check(Map.of(name, "x"))).as(name).map(JobEnvironmentRule.Refusal::variable).hasValue(name);
        }
    }

    @Test
    void variablesThatMakeAShellRunCodeAtStartAreRefused() {
        for (String name : new String[] {"BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "IFS", "PROMPT_COMMAND"}) {
            assertThat(check(Map.of(name, "x"))).as(name).map(JobEnvironmentRule.Refusal::variable).hasValue(name);
        }
    }

    @Test
    void theProvidersOwnVariablesAndTheBrokersAreRefused() {
        assertThat(check(Map.of("PATH", "/work/bin"))).hasValueSatisfying(refusal -> assertThat(refusal.why())
                .contains("set by the provider", "CUDA_VISIBLE_DEVICES, HOME, PATH"));
        assertThat(check(Map.of("CUDA_VISIBLE_DEVICES", "0,1,2,3"))).isPresent();
        assertThat(check(Map.of("GPUBROKER_JOB_ID", "job_other"))).hasValueSatisfying(refusal -> assertThat(refusal.why())
                .contains("reserved for the broker"));
        assertThat(check(Map.of("GPUBROKER_ADMIN_TOKEN", "x"))).isPresent();
    }

    @Test
    void namesAreExactAsLinuxReadsThem() {
        assertThat(check(Map.of("ld_preload", "x", "Path", "y", "MY_LD_PRELOAD", "z"))).isEmpty();
    }

    @Test
    void aValueNoEnvironmentCanHoldIsRefused() {
        assertThat(check(Map.of("KEY", "a\0b"))).hasValueSatisfying(refusal -> assertThat(refusal.why()).contains("NUL"));
    }

    @Test
    void aLineBreakIsRefusedOnlyForAContainerWhoseVariablesTravelAsLinesOfAFile() {
        assertThat(JobEnvironmentRule.check(Map.of("PEM", "-----BEGIN\nx"), PROVIDER, false)).isEmpty();
        assertThat(JobEnvironmentRule.check(Map.of("PEM", "-----BEGIN\nx"), PROVIDER, true))
                .hasValueSatisfying(refusal -> assertThat(refusal.why()).contains("line break"));
    }

    @Test
    void theFirstRefusedVariableInNameOrderIsTheOneNamed() {
        assertThat(check(Map.of("ZZ", "ok", "LD_PRELOAD", "x", "BASH_ENV", "y"))).map(JobEnvironmentRule.Refusal::variable)
                .hasValue("BASH_ENV");
    }

    @Test
    void aNameThatIsNoVariableNameIsRefused() {
        assertThat(check(Map.of("NOT-A-NAME", "x"))).isPresent();
        assertThat(check(Map.of("1ABC", "x"))).isPresent();
    }

    private static Optional<JobEnvironmentRule.Refusal> check(Map<String, String> environment) {
        return JobEnvironmentRule.check(environment, PROVIDER, false);
    }
}
