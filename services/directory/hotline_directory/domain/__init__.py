"""Pure rules of the directory service. The directory's own fold, validation and diff are
shared with every service that follows the directory, so they live in
hotline_platform.directory; what is the writer's alone (who may change what) is here."""
