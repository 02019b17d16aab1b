package dev.gpubroker.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** The admin API over real HTTP, with the admin token the server wrote at its first start. */
public final class AdminClient {

    private final URI base;
    private final String token;

    public AdminClient(URI base, Path dataDir) throws Exception {
        this.base = base;
        this.token = Files.readString(dataDir.resolve("admin.token")).strip();
    }

    public String token() {
        return token;
    }

    public HttpResponse<String> get(String path) throws Exception {
        return send("GET", path, null, token);
    }

    public HttpResponse<String> post(String path, String body) throws Exception {
        return send("POST", path, body, token);
    }

    public HttpResponse<String> put(String path, String body) throws Exception {
        return send("PUT", path, body, token);
    }

    public HttpResponse<String> send(String method, String path, String body, String bearer) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (bearer != null) {
            request.header("Authorization", "Bearer " + bearer);
        }
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }
    }
}
