package dev.gpubroker.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The samples of a scrape in Prometheus's text format, to look up by name and labels (in any order). */
final class ScrapedMetrics {

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+(\\S+)(?:\\s+\\S+)?$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    record Sample(String name, Map<String, String> labels, double value) {
    }

    private final List<Sample> samples;

    private ScrapedMetrics(List<Sample> samples) {
        this.samples = samples;
    }

    static ScrapedMetrics parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher sample = SAMPLE.matcher(line.strip());
            if (!sample.matches()) {
                throw new IllegalArgumentException("not a sample line: " + line);
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (sample.group(2) != null) {
                Matcher label = LABEL.matcher(sample.group(2));
                while (label.find()) {
                    labels.put(label.group(1), label.group(2));
                }
            }
            samples.add(new Sample(sample.group(1), labels, Double.parseDouble(sample.group(3))));
        }
        return new ScrapedMetrics(samples);
    }

    /** The value of the one sample of this name whose labels include these (name, value, name, value...). */
    OptionalDouble value(String name, String... labels) {
        Map<String, String> wanted = new LinkedHashMap<>();
        for (int index = 0; index < labels.length; index += 2) {
            wanted.put(labels[index], labels[index + 1]);
        }
        List<Sample> found = samples.stream().filter(sample -> sample.name().equals(name))
                .filter(sample -> sample.labels().entrySet().containsAll(wanted.entrySet()))
                .toList();
        if (found.size() > 1) {
            throw new IllegalArgumentException(found.size() + " samples match " + name + " " + wanted + ": " + found);
        }
        return found.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(found.getFirst().value());
    }

    boolean has(String name) {
        return samples.stream().anyMatch(sample -> sample.name().equals(name));
    }
}
