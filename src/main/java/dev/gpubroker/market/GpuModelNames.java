package dev.gpubroker.market;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;


/**
 * Maps the product names nvidia-smi prints (on this host, or in a job's readiness probe at a provider) ("NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-80GB") to the models of
 * {@link GpuModels}. Each pattern matches a whole product name, so that a neighbour never passes for a model it is
 * not: a GH200 is not an H200, an L40 not an L40S, a laptop RTX 4090 (16 GB) not the desktop card.
 */
public final class GpuModelNames {

    private static final int A100_80GB_MEMORY_MIB_MIN = 60 * 1024;

    private record Rule(Pattern name, String model) {
    }

    // Matched against the name upper-cased, without the vendor and product-line prefixes.
    private static final List<Rule> RULES = List.of(
            new Rule(Pattern.compile("B200([ -].*)?"), "B200"),
            new Rule(Pattern.compile("H200([ -].*)?"), "H200"),
            new Rule(Pattern.compile("H100([ -].*)?"), "H100"),
            new Rule(Pattern.compile("L40S"), "L40S"),
            new Rule(Pattern.compile("RTX 4090"), "RTX4090"));
    private static final Pattern A100 = Pattern.compile("A100([ -].*)?");

    private GpuModelNames() {
    }

    /** The model of a GPU with this nvidia-smi name and memory, or empty when it is not one GPU Broker sells. */
    public static Optional<String> modelOf(String nvidiaSmiName, int memoryMib) {
        String name = nvidiaSmiName.strip().toUpperCase(Locale.ROOT)
                .replaceFirst("^NVIDIA ", "")
                .replaceFirst("^(GEFORCE|TESLA|QUADRO) ", "");
        if (A100.matcher(name).matches()) {
            // The A100 comes with 40 or 80 GB, and not every name says which ("NVIDIA A100 PCIe"): the memory does.
            return Optional.of(memoryMib >= A100_80GB_MEMORY_MIB_MIN ? "A100-80GB" : "A100-40GB");
        }
        return RULES.stream().filter(rule -> rule.name().matcher(name).matches()).map(Rule::model).findFirst();
    }
}
