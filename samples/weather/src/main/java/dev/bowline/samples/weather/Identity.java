package dev.bowline.samples.weather;

/**
 * Who served an answer: put on every response as {@code x-weather-service}, {@code
 * x-weather-version} and {@code x-weather-instance}, and into every JSON body.
 *
 * @param service the service name, e.g. {@code forecast}
 * @param version {@code v1} or {@code v2}
 * @param instance this process's (or embedded app's) instance name
 */
record Identity(String service, String version, String instance) {}
