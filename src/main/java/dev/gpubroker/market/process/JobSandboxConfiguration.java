package dev.gpubroker.market.process;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.gpubroker.config.BrokerProperties;

/** One job sandbox for every provider that runs jobs on this host, probed once at start. */
@Configuration(proxyBeanMethods = false)
public class JobSandboxConfiguration {

    @Bean
    JobSandbox jobSandbox(BrokerProperties properties) {
        // The job records too, when they live outside the data directory: a job sees its own work directory only.
        List<Path> hidden = new ArrayList<>(List.of(properties.dataDir(), properties.walletsDir(),
                properties.jobRecordsDir()));
        if (!properties.wallets().passwordFile().isBlank()) {
            Path passwordFile = Path.of(properties.wallets().passwordFile()).toAbsolutePath();
            hidden.add(passwordFile.getParent());
        }
        return JobSandbox.probe(properties.jobRecordsDir(),
                new JobSandbox.Settings(properties.jobs().allowUnsandboxed(), properties.jobs().sandboxFirstUid(),
                        properties.jobs().bubblewrap(), hidden.stream().map(path -> path.toAbsolutePath().normalize()).toList()));
    }
}
