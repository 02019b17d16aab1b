package dev.gpubroker.metrics;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The one meter registry: Prometheus's, declared here rather than left to Spring Boot's export auto-configuration, so
 * that the admin API's scrape ({@code GET /admin/v1/metrics}) has it whatever the export settings say (Spring Boot's
 * tests turn exports off) and the actuator's own {@code /actuator/prometheus} is never needed. Spring Boot still binds
 * its meters (JVM, HTTP server, R2DBC pool) to it.
 */
@Configuration(proxyBeanMethods = false)
class MetricsConfiguration {

    @Bean
    PrometheusMeterRegistry prometheusMeterRegistry() {
        return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(), Clock.SYSTEM);
    }

    /**
     * No answer of this server names a Java class, the scrape included: Spring's HTTP server meters tag a failed request
     * with the exception's class name ({@code exception}, {@code error}), and its start-up meters with the main class
     * ({@code main_application_class}). The status and outcome tags say what the operator needs; the log has the rest.
     */
    @Bean
    MeterFilter noJavaClassNamesInTags() {
        return MeterFilter.ignoreTags("exception", "error", "main.application.class");
    }
}
