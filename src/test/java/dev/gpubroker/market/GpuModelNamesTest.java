package dev.gpubroker.market;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** nvidia-smi's product names, mapped to the models GPU Broker sells, and the neighbours that must not pass for them. */
class GpuModelNamesTest {

    @ParameterizedTest(name = "{0} with {1} MiB is {2}")
    @CsvSource(delimiter = '|', textBlock = """
            NVIDIA H100 80GB HBM3   | 81559  | H100
            NVIDIA H100 PCIe        | 81559  | H100
            NVIDIA H100 NVL         | 95830  | H100
            NVIDIA H200             | 143771 | H200
            NVIDIA H200 NVL         | 143771 | H200
            NVIDIA B200             | 183359 | B200
            NVIDIA A100-SXM4-80GB   | 81920  | A100-80GB
            NVIDIA A100 80GB PCIe   | 81920  | A100-80GB
            NVIDIA A100-SXM4-40GB   | 40960  | A100-40GB
            NVIDIA A100-PCIE-40GB   | 40960  | A100-40GB
            NVIDIA A100 PCIe        | 40960  | A100-40GB
            NVIDIA L40S             | 46068  | L40S
            NVIDIA GeForce RTX 4090 | 24564  | RTX4090
            """)
    void mapsTheNamesNvidiaSmiPrintsToAModel(String name, int memoryMib, String model) {
        assertThat(GpuModelNames.modelOf(name, memoryMib)).contains(model);
    }

    @ParameterizedTest(name = "{0} is not sold")
    @CsvSource(delimiter = '|', textBlock = """
            NVIDIA GH200 480GB                  | 97871
            NVIDIA L40                          | 46068
            NVIDIA L4                           | 23034
            NVIDIA GeForce RTX 4090 Laptop GPU  | 16376
            NVIDIA GeForce RTX 4090 D           | 24564
            NVIDIA H800                         | 81559
            NVIDIA A10G                         | 23028
            Tesla T4                            | 15360
            """)
    void leavesOtherModelsOut(String name, int memoryMib) {
        assertThat(GpuModelNames.modelOf(name, memoryMib)).isEqualTo(Optional.empty());
    }
}
