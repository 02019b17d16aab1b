package dev.gpubroker.market;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Which environment variables an agent may give its job: the one place that decides. A job's environment is what its
 * provider sets plus the agent's {@code env}; an agent's variable is refused, naming it, when it
 * <ul>
 *   <li>steers the dynamic loader ({@code LD_*}: {@code LD_PRELOAD}, {@code LD_LIBRARY_PATH}, {@code LD_AUDIT}, ...);</li>
 *   <li>is one glibc reads in every program it starts, and refuses to pass to privileged programs for that reason
 *   (glibc's {@code unsecvars.h}: {@code GCONV_PATH}, {@code GLIBC_TUNABLES}, {@code LOCPATH}, ...);</li>
 *   <li>makes a shell run code or read its input differently at start ({@code BASH_ENV}, {@code ENV}, {@code IFS},
 *   ...);</li>
 *   <li>belongs to the broker ({@code GPUBROKER_*}) or is one the provider sets itself ({@code PATH}, {@code HOME},
 *   {@code CUDA_VISIBLE_DEVICES}, ...);</li>
 *   <li>has a value no environment can hold (a NUL character), or, for a container, a line break (the runtime reads the
 *   variables from a file of lines).</li>
 * </ul>
 * Inside the sandbox such variables could only hurt the job itself; they are refused because the programs that
 * set a job up (the wrapper, the sandbox, a container runtime) run with the broker's privileges, because a provider's
 * own variables are what its jobs rely on, and because an agent gets a clear answer instead of a variable silently
 * dropped.
 */
public final class JobEnvironmentRule {

    /** A variable that may not be given, and why, in words an agent can act on. */
    public record Refusal(String variable, String why) {
    }

    private static final Pattern VARIABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    // glibc's UNSECURE_ENVVARS (elf/dl-support, sysdeps/generic/unsecvars.h), less LD_* (a prefix below) and TMPDIR
    // (the provider's).
    private static final Set<String> GLIBC_UNSECURE = Set.of("GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES",
            "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE", "NIS_PATH", "NLSPATH", "RESOLV_HOST_CONF",
            "RES_OPTIONS", "TZDIR");
    private static final Set<String> SHELL_START = Set.of("BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "IFS",
            "CDPATH", "PROMPT_COMMAND");
    private static final String BROKER_PREFIX = "GPUBROKER_";

    private JobEnvironmentRule() {
    }

    /**
     * The first variable, in name order, that may not be given, or empty when all may.
     *
     * @param reservedByProvider the names the provider sets itself
     * @param inContainer        whether the job runs in a container (its variables then travel as lines of a file)
     */
    public static Optional<Refusal> check(Map<String, String> environment, Set<String> reservedByProvider,
            boolean inContainer) {
        for (Map.Entry<String, String> variable : new TreeMap<>(environment).entrySet()) {
            Optional<Refusal> refusal = check(variable.getKey(), variable.getValue(), reservedByProvider, inContainer);
            if (refusal.isPresent()) {
                return refusal;
            }
        }
        return Optional.empty();
    }

    private static Optional<Refusal> check(String name, String value, Set<String> reservedByProvider, boolean inContainer) {
        if (!VARIABLE_NAME.matcher(name).matches()) {
            return refuse(name, "is not a variable name (letters, digits and _, not starting with a digit)");
        }
        // Names are exact: Linux environments are case-sensitive, and ld_preload is read by nothing.
        if (name.startsWith("LD_")) {
            return refuse(name, "is read by the dynamic loader of every program started (LD_* variables load or "
                    + "redirect code, as LD_PRELOAD does): jobs may not set LD_* variables");
        }
        if (GLIBC_UNSECURE.contains(name)) {
            return refuse(name, "is read by glibc in every program (it is among the variables glibc removes for "
                    + "privileged programs): jobs may not set it");
        }
        if (SHELL_START.contains(name)) {
            return refuse(name, "changes what a shell runs or how it reads commands at start: jobs may not set it");
        }
        if (name.startsWith(BROKER_PREFIX)) {
            return refuse(name, "is reserved for the broker (GPUBROKER_* variables are set by GPU Broker)");
        }
        if (reservedByProvider.contains(name)) {
            return refuse(name, "is set by the provider for every job (" + String.join(", ",
                    new java.util.TreeSet<>(reservedByProvider)) + "): jobs may not override it");
        }
        if (value.indexOf('\0') >= 0) {
            return refuse(name, "has a NUL character in its value, which no environment variable can hold");
        }
        if (inContainer && (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0)) {
            return refuse(name, "has a line break in its value, which a container's environment file cannot carry");
        }
        return Optional.empty();
    }

    private static Optional<Refusal> refuse(String name, String why) {
        return Optional.of(new Refusal(name, why));
    }
}
