package dev.gpubroker.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 written by hand on a socket, so that the request target reaches the server byte for byte: java.net.URI and
 * HTTP clients normalise paths (dot segments, case of percent-escapes), and a test of path spellings must not be
 * helped by its client. One request per connection.
 */
public final class RawHttp {

    /** What came back; {@code status} is -1 when the server closed the connection without an answer. */
    public record Response(int status, Map<String, String> headers, String body, boolean timedOut) {

        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        public boolean isSuccess() {
            return status >= 200 && status < 300;
        }
    }

    private static final int RESPONSE_BYTES_MAX = 1 << 20;

    private final int port;
    private final Duration timeout;

    public RawHttp(int port, Duration timeout) {
        this.port = port;
        this.timeout = timeout;
    }

    public Response send(String method, String target, Map<String, String> headers, String body) throws IOException {
        byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        StringBuilder request = new StringBuilder()
                .append(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                .append("Host: 127.0.0.1:").append(port).append("\r\n");
        headers.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
        if (body != null) {
            request.append("Content-Length: ").append(content.length).append("\r\n");
        }
        request.append("Connection: close\r\n\r\n");
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout((int) timeout.toMillis());
            socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().write(content);
            socket.getOutputStream().flush();
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            boolean timedOut = readUntilClosed(socket.getInputStream(), received);
            return parse(received.toByteArray(), timedOut);
        }
    }

    private static boolean readUntilClosed(InputStream in, ByteArrayOutputStream out) throws IOException {
        byte[] buffer = new byte[8192];
        try {
            for (int count; (count = in.read(buffer)) >= 0 && out.size() < RESPONSE_BYTES_MAX; ) {
                out.write(buffer, 0, count);
            }
            return false;
        } catch (SocketTimeoutException e) {
            return true;
        } catch (IOException reset) {
            // A reset after the answer was written still leaves the answer readable.
            return false;
        }
    }

    private static Response parse(byte[] raw, boolean timedOut) {
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        int headerEnd = text.indexOf("\r\n\r\n");
        if (!text.startsWith("HTTP/1.1 ") || headerEnd < 0) {
            return new Response(-1, Map.of(), text, timedOut);
        }
        String[] lines = text.substring(0, headerEnd).split("\r\n");
        int status = Integer.parseInt(lines[0].substring(9, 12));
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.merge(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT),
                        lines[i].substring(colon + 1).strip(), (a, b) -> a + ", " + b);
            }
        }
        byte[] bodyBytes = java.util.Arrays.copyOfRange(raw, headerEnd + 4, raw.length);
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            bodyBytes = dechunk(bodyBytes);
        }
        return new Response(status, headers, new String(bodyBytes, StandardCharsets.UTF_8), timedOut);
    }

    private static byte[] dechunk(byte[] chunked) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int position = 0;
        while (position < chunked.length) {
            int lineEnd = indexOfCrLf(chunked, position);
            if (lineEnd < 0) {
                break;
            }
            String sizeField = new String(chunked, position, lineEnd - position, StandardCharsets.ISO_8859_1);
            int size;
            try {
                size = Integer.parseInt(sizeField.split(";")[0].strip(), 16);
            } catch (NumberFormatException e) {
                break;
            }
            if (size == 0) {
                break;
            }
            int start = lineEnd + 2;
            int end = Math.min(start + size, chunked.length);
            out.write(chunked, start, end - start);
            position = end + 2;
        }
        return out.toByteArray();
    }

    private static int indexOfCrLf(byte[] bytes, int from) {
        for (int i = from; i + 1 < bytes.length; i++) {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
