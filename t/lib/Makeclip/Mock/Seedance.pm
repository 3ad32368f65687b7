package Makeclip::Mock::Seedance;

# ByteDance Seedance on BytePlus ModelArk, as its video generation API
# pages and the Ark SDK (volcenginesdkarkruntime content_generation.tasks)
# document it:
#
#   POST   /api/v3/contents/generations/tasks        create
#   GET    /api/v3/contents/generations/tasks/{id}   the task
#   DELETE /api/v3/contents/generations/tasks/{id}   cancel a queued task,
#                                                    delete a finished one
#   GET    /files/{id}.mp4                           the video (a presigned
#                                                    URL: no credentials)
#
# Bearer auth with the mock's key.  Errors: {"error": {code, message,
# param, type}}, 400 InvalidParameter / MissingParameter for input, 401
# AuthenticationError, 404 ResourceNotFound.
#
# The body is checked as the API does: model known; content a list whose
# first item is {type: "text", text}, images as {type: "image_url",
# image_url: {url}, role} with an https or data:image URL; resolution
# 480p|720p|1080p; ratio from the documented list; duration an integer in
# the model's range; seed an integer in [-1, 2^32-1]; camera_fixed and
# watermark booleans; nothing else (stricter than the real API, so the
# tests see a field the adapter should not send).
#
# Each status poll moves a task on: queued, running, then succeeded or
# failed.  Outcomes by prompt: "[fail]" fails with an output-moderation
# error, "[expire]" ends expired.  DELETE follows the documented table:
# queued -> cancelled; running or cancelled -> refused (400; the exact
# code is not documented); succeeded, failed, expired -> record deleted.
#
# Control: POST /__mock/finish {"id": ...} ends a task as succeeded at
# once; POST /__mock/start {"id": ...} makes it running.

use strict;
use warnings;
use parent 'Makeclip::Mock';

my %MODELS = (
    'seedance-1-0-pro-250528'      => [2, 12],
    'seedance-1-0-pro-fast-251015' => [2, 12],
    'seedance-1-5-pro-251215'      => [4, 12],
    'dreamina-seedance-2-0-260128' => [4, 15],
);

my %RESOLUTIONS = map { $_ => 1 } qw(480p 720p 1080p);
my %RATIOS = map { $_ => 1 } qw(16:9 4:3 1:1 3:4 9:16 21:9 adaptive);
my %ROLES = map { $_ => 1 } qw(first_frame last_frame reference_image);
my %TOP = map { $_ => 1 }
    qw(model content resolution ratio duration seed camera_fixed watermark
       callback_url return_last_frame service_tier execution_expires_after
       generate_audio draft frames);

sub routes {
    return [
        ['POST', qr{^/api/v3/contents/generations/tasks$}, \&create,
         'create'],
        ['GET', qr{^/api/v3/contents/generations/tasks/([\w-]+)$}, \&get,
         'status'],
        ['DELETE', qr{^/api/v3/contents/generations/tasks/([\w-]+)$},
         \&delete, 'cancel'],
        ['GET', qr{^/files/([\w-]+)\.mp4$}, \&file, 'content'],
    ];
}

sub error {
    my ($status, $code, $message, $param, $type) = @_;
    return [$status, {}, { error => {
        code => $code, message => "$message Request id: 0217mock",
        param => $param // '', type => $type // 'BadRequest' } }];
}

sub invalid {
    my ($param, $why) = @_;
    return error(400, 'InvalidParameter', "The parameter `$param` specified "
                 . "in the request is not valid: $why.", $param);
}

sub fault_body {
    my ($self, $status) = @_;
    return { error => { code => 'InternalServiceError',
                        message => "The service encountered an unexpected "
                                   . "internal error ($status).",
                        param => '', type => 'InternalServerError' } };
}

sub unauthorized {
    return error(401, 'AuthenticationError', 'The API key or AK/SK in the '
                 . 'request is missing or invalid.', '', 'Unauthorized');
}

sub control {
    my ($self, $what, $req) = @_;

    if ($what eq 'finish' || $what eq 'start') {
        my $task = $self->{tasks}{ ($req->{json} || {})->{id} // '' }
            or return [404, {}, { error => 'no such task' }];
        if ($what eq 'finish') {
            $task->{status} = 'succeeded';
            $task->{content} = { video_url => $self->url
                                              . "/files/$task->{id}.mp4" };
        } else {
            $task->{status} = 'running';
            $task->{polls} = 0;
        }
        return [200, {}, { ok => JSON::PP::true }];
    }

    return $self->SUPER::control($what, $req);
}

sub _raw {
    my ($req, $k, $re) = @_;
    return $req->{body} =~ /"\Q$k\E"\s*:\s*$re/;
}

sub create {
    my ($self, $req) = @_;

    return unauthorized() unless $self->bearer_ok($req);

    my $b = $req->{json};
    return invalid('body', 'not a JSON object') unless ref $b eq 'HASH';

    return error(400, 'MissingParameter', 'The request failed because it is '
                 . 'missing one or multiple required parameters.', 'model')
        unless defined $b->{model};

    my $range = $MODELS{$b->{model}}
        or return error(404, 'InvalidEndpointOrModel.NotFound', "The model "
                        . "or endpoint $b->{model} does not exist or you do "
                        . 'not have access to it.', 'model', 'NotFound');

    for my $k (sort keys %$b) {
        return invalid($k, 'unknown parameter') unless $TOP{$k};
    }

    my $c = $b->{content};
    return invalid('content', 'must be a non-empty list')
        unless ref $c eq 'ARRAY' && @$c;

    my ($text) = grep { ref $_ eq 'HASH' && ($_->{type} // '') eq 'text' } @$c;
    return invalid('content', 'a text item is required')
        unless $text && defined $text->{text} && !ref $text->{text}
               && length $text->{text};

    for my $item (@$c) {
        return invalid('content.type', 'must be text or image_url')
            unless ref $item eq 'HASH'
                   && ($item->{type} // '') =~ /^(text|image_url)$/;
        next if $item->{type} eq 'text';

        my $url = ref $item->{image_url} eq 'HASH'
                  ? $item->{image_url}{url} : undef;
        return invalid('content.image_url.url', 'an https URL or a '
                       . 'data:image/<format>;base64 string is required')
            unless defined $url && !ref $url
                   && $url =~ m{^(https?://|data:image/[\w.+-]+;base64,)};
        return invalid('content.role', 'unknown role')
            if defined $item->{role} && !$ROLES{$item->{role}};
    }

    return invalid('resolution', 'must be one of 480p, 720p, 1080p')
        if exists $b->{resolution} && !$RESOLUTIONS{$b->{resolution} // ''};
    return invalid('ratio', 'must be one of 16:9, 4:3, 1:1, 3:4, 9:16, '
                   . '21:9, adaptive')
        if exists $b->{ratio} && !$RATIOS{$b->{ratio} // ''};

    if (exists $b->{duration}) {
        return invalid('duration', 'must be an integer')
            unless _raw($req, 'duration', '-?\d+[,}\s]');
        return invalid('duration', "must be between $range->[0] and "
                       . "$range->[1] for $b->{model}")
            if $b->{duration} < $range->[0] || $b->{duration} > $range->[1];
    }

    if (exists $b->{seed}) {
        return invalid('seed', 'must be an integer in [-1, 4294967295]')
            unless _raw($req, 'seed', '-?\d+[,}\s]')
                   && $b->{seed} >= -1 && $b->{seed} <= 4294967295;
    }

    for my $k (qw(camera_fixed watermark)) {
        return invalid($k, 'must be a boolean')
            if exists $b->{$k} && !JSON::PP::is_bool($b->{$k});
    }

    my $id = sprintf 'cgt-20250331175019-%05d', ++$self->{seq};
    my $prompt = $text->{text};

    $self->{tasks}{$id} = {
        id => $id, model => $b->{model}, status => 'queued', polls => -1,
        body => $b, created_at => time, updated_at => time,
        outcome => $prompt =~ /\[fail\]/ ? 'fail'
                 : $prompt =~ /\[expire\]/ ? 'expire' : undef,
    };

    return [200, {}, { id => $id }];
}

sub _public {
    my ($self, $task) = @_;
    my $b = $task->{body};
    my %t = (
        id => $task->{id}, model => $task->{model}, status => $task->{status},
        created_at => $task->{created_at}, updated_at => time,
        resolution => $b->{resolution} // '720p', ratio => $b->{ratio} // '16:9',
        duration => $b->{duration} // 5, framespersecond => 24,
        seed => $b->{seed} // 11,
    );
    $t{content} = $task->{content} if $task->{content};
    $t{error} = $task->{error} if $task->{error};
    $t{usage} = { completion_tokens => 246840, total_tokens => 246840 }
        if $task->{status} eq 'succeeded';
    return \%t;
}

sub get {
    my ($self, $req, $id) = @_;

    return unauthorized() unless $self->bearer_ok($req);

    my $task = $self->{tasks}{$id}
        or return error(404, 'ResourceNotFound', "The specified task $id is "
                        . 'not found.', 'id', 'NotFound');

    if ($task->{status} =~ /^(queued|running)$/) {
        my $s = $self->advance($task);
        if ($s eq 'running') {
            $task->{status} = 'running';
        } elsif ($s ne 'queued') {
            my $o = $task->{outcome} // $s;
            if ($o eq 'fail') {
                $task->{status} = 'failed';
                $task->{error} = {
                    code => 'OutputVideoSensitiveContentDetected',
                    message => 'The request failed because the output video '
                               . 'may contain sensitive information.' };
            } elsif ($o eq 'expire') {
                $task->{status} = 'expired';
            } else {
                $task->{status} = 'succeeded';
                $task->{content} = { video_url => $self->url
                                                  . "/files/$id.mp4" };
            }
        }
    }

    return [200, {}, $self->_public($task)];
}

sub delete {
    my ($self, $req, $id) = @_;

    return unauthorized() unless $self->bearer_ok($req);

    my $task = $self->{tasks}{$id}
        or return error(404, 'ResourceNotFound', "The specified task $id is "
                        . 'not found.', 'id', 'NotFound');

    if ($task->{status} eq 'queued') {
        $task->{status} = 'cancelled';
        return [200, {}, {}];
    }

    return error(400, 'InvalidParameter', "The task $id in status "
                 . "$task->{status} cannot be cancelled or deleted.", 'id')
        if $task->{status} =~ /^(running|cancelled)$/;

    delete $self->{tasks}{$id};
    return [200, {}, {}];
}

sub file {
    my ($self, $req, $id) = @_;
    return [404, {}, 'NoSuchKey'] unless $self->{tasks}{$id};
    return [200, { 'Content-Type' => 'video/mp4' },
            "SEEDANCE-MP4-$id-" . ('x' x 960)];
}

1;
