package dev.bowline.proxy.config;

/** A route: what it matches and what it does. */
public record Route(String name, RouteMatch match, RouteAction action) {}
