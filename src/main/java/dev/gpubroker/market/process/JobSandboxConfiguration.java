package dev.gpubroker.market.process;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.gpubroker.config.BrokerProperties;

/** One job sandbox for every provider that runs jobs on this host, probed once at start. */
@Configuration(proxyBeanMethods = false)
public class JobSandboxConfiguration {

    @Bean
    JobSandbox jobSandbox(BrokerProperties properties) {
        return JobSandbox.probe(properties.dataDir().resolve("jobs").toAbsolutePath().normalize(),
                new JobSandbox.Settings(properties.jobs().allowUnsandboxed(), properties.jobs().sandboxFirstUid(),
                        properties.jobs().bubblewrap()));
    }
}
