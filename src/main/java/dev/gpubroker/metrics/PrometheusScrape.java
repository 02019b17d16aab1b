package dev.gpubroker.metrics;

import java.util.Locale;

import org.springframework.stereotype.Component;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Every meter in Prometheus's text format, for the operator's scraper: OpenMetrics when the scraper asks for it (as
 * Prometheus does first), else the classic text format 0.0.4. Never the protobuf format, which is not text.
 */
@Component
public class PrometheusScrape {

    /** What a scrape answers: the content type to send, and the text. */
    public record Scrape(String contentType, String body) {
    }

    private static final String OPEN_METRICS = "application/openmetrics-text";
    /** The formats' own names, as the Prometheus client's writers answer them (the registry picks its writer by them). */
    static final String OPEN_METRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    static final String TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry;

    PrometheusScrape(PrometheusMeterRegistry registry) {
        this.registry = registry;
    }

    /** @param accept the scraper's Accept header; null or anything else: the classic text format */
    public Scrape scrape(String accept) {
        String contentType = accept != null && accept.toLowerCase(Locale.ROOT).contains(OPEN_METRICS)
                ? OPEN_METRICS_CONTENT_TYPE
                : TEXT_CONTENT_TYPE;
        return new Scrape(contentType, registry.scrape(contentType));
    }
}
