package dev.gpubroker.market.kubernetes;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.gpubroker.market.GpuModelNames;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;

/**
 * The cluster's GPUs as the scheduler sees them: each Ready, schedulable node that GPU feature discovery labelled with
 * a GPU product ({@value #PRODUCT_LABEL}), its allocatable {@value #GPU_RESOURCE}, less what the pods bound to it ask
 * for (every pod not yet Succeeded or Failed holds its GPUs). A pure reading of the API's objects.
 */
final class GpuNodes {

    static final String GPU_RESOURCE = "nvidia.com/gpu";
    static final String PRODUCT_LABEL = "nvidia.com/gpu.product";
    static final String MEMORY_LABEL = "nvidia.com/gpu.memory";

    private static final Set<String> ENDED_PHASES = Set.of("Succeeded", "Failed");
    // VRAM per GPU when a node has no memory label: the model's usual size (as the demo catalog has them).
    private static final Map<String, Integer> USUAL_VRAM_GB = Map.of("B200", 192, "H200", 141, "H100", 80,
            "A100-80GB", 80, "A100-40GB", 40, "L40S", 48, "RTX4090", 24);

    /** One GPU node: its product label, the model it maps to, VRAM per GPU, allocatable and requested GPUs. */
    record GpuNode(String name, String product, String model, int vramGb, int allocatable, int requested) {

        int free() {
            return Math.max(0, allocatable - requested);
        }
    }

    /** A model's GPUs over all its nodes: the most free on one node (a job is one pod, on one node) and where. */
    record ModelCapacity(String model, int vramGb, int freeOnOneNodeMax, int freeTotal, String roomiestProduct) {
    }

    private GpuNodes() {
    }

    /**
     * The GPU nodes a job can be scheduled on; {@code unknownProducts} collects the product labels that map to no model
     * GPU Broker sells.
     */
    static List<GpuNode> read(List<Node> nodes, List<Pod> pods, Set<String> unknownProducts) {
        Map<String, Integer> requestedByNode = new HashMap<>();
        for (Pod pod : pods) {
            String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
            String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
            if (node != null && (phase == null || !ENDED_PHASES.contains(phase))) {
                requestedByNode.merge(node, gpusOf(pod), Integer::sum);
            }
        }
        List<GpuNode> gpuNodes = new ArrayList<>();
        for (Node node : nodes) {
            Map<String, String> labels = node.getMetadata().getLabels();
            String product = labels == null ? null : labels.get(PRODUCT_LABEL);
            if (product == null || !schedulable(node)) {
                continue;
            }
            if (product.toUpperCase(java.util.Locale.ROOT).contains("-MIG-")) {
                // MIG's single strategy labels a slice as the product ("NVIDIA-H100-80GB-HBM3-MIG-1g.10gb"): a slice is not
                // the GPU a model promises, so such nodes are not sold.
                unknownProducts.add(product);
                continue;
            }
            int memoryMib = labels.containsKey(MEMORY_LABEL) ? parseOrZero(labels.get(MEMORY_LABEL)) : 0;
            // GPU feature discovery writes the nvidia-smi name with dashes for spaces ("NVIDIA-H100-80GB-HBM3").
            Optional<String> model = GpuModelNames.modelOf(product.replace('-', ' '), memoryMib);
            if (model.isEmpty()) {
                unknownProducts.add(product);
                continue;
            }
            int vramGb = memoryMib > 0 ? Math.round(memoryMib / 1024f) : USUAL_VRAM_GB.get(model.get());
            int allocatable = wholeGpus(node.getStatus().getAllocatable() == null ? null
                    : node.getStatus().getAllocatable().get(GPU_RESOURCE));
            if (allocatable > 0) {
                gpuNodes.add(new GpuNode(node.getMetadata().getName(), product, model.get(), vramGb, allocatable,
                        requestedByNode.getOrDefault(node.getMetadata().getName(), 0)));
            }
        }
        return List.copyOf(gpuNodes);
    }

    /** The GPU nodes by model, in a stable order. */
    static Map<String, ModelCapacity> byModel(List<GpuNode> nodes) {
        Map<String, List<GpuNode>> grouped = new LinkedHashMap<>();
        nodes.stream().sorted(Comparator.comparing(GpuNode::model).thenComparing(GpuNode::name))
                .forEach(node -> grouped.computeIfAbsent(node.model(), model -> new ArrayList<>()).add(node));
        Map<String, ModelCapacity> capacities = new LinkedHashMap<>();
        grouped.forEach((model, ofModel) -> {
            GpuNode roomiest = ofModel.stream().max(Comparator.comparingInt(GpuNode::free)).orElseThrow();
            int vramGb = ofModel.stream().mapToInt(GpuNode::vramGb).min().orElseThrow();
            capacities.put(model, new ModelCapacity(model, vramGb, roomiest.free(),
                    ofModel.stream().mapToInt(GpuNode::free).sum(), roomiest.product()));
        });
        return capacities;
    }

    /** The GPUs a pod asks for: its containers' together, or its largest init container's if more (as the scheduler counts). */
    static int gpusOf(Pod pod) {
        if (pod.getSpec() == null) {
            return 0;
        }
        int containers = pod.getSpec().getContainers().stream().mapToInt(GpuNodes::gpusOf).sum();
        int init = pod.getSpec().getInitContainers().stream().mapToInt(GpuNodes::gpusOf).max().orElse(0);
        return Math.max(containers, init);
    }

    private static int gpusOf(Container container) {
        if (container.getResources() == null) {
            return 0;
        }
        // For an extended resource the request equals the limit, and a limit alone implies the request.
        Quantity requested = container.getResources().getRequests() == null ? null
                : container.getResources().getRequests().get(GPU_RESOURCE);
        if (requested == null && container.getResources().getLimits() != null) {
            requested = container.getResources().getLimits().get(GPU_RESOURCE);
        }
        return wholeGpus(requested);
    }

    private static boolean schedulable(Node node) {
        if (node.getSpec() != null && Boolean.TRUE.equals(node.getSpec().getUnschedulable())) {
            return false;
        }
        return node.getStatus() != null && node.getStatus().getConditions() != null
                && node.getStatus().getConditions().stream()
                        .anyMatch(condition -> "Ready".equals(condition.getType()) && "True".equals(condition.getStatus()));
    }

    private static int wholeGpus(Quantity quantity) {
        if (quantity == null) {
            return 0;
        }
        try {
            return quantity.getNumericalAmount().intValueExact();
        } catch (ArithmeticException | IllegalArgumentException notWhole) {
            return 0;
        }
    }

    private static int parseOrZero(String number) {
        try {
            return Integer.parseInt(number.strip());
        } catch (NumberFormatException notANumber) {
            return 0;
        }
    }
}
