package Makeclip::Mock::Fal;

# fal.ai's queue API as documented (docs.fal.ai, queue and request-error
# pages) and as @fal-ai/client and fal_client use it:
#
#   POST /{endpoint_id}                        submit; the body is the
#                                              endpoint's input
#   GET  /{owner}/{alias}/requests/{id}/status IN_QUEUE, IN_PROGRESS,
#                                              COMPLETED
#   GET  /{owner}/{alias}/requests/{id}        the output, or the error
#   PUT  /{owner}/{alias}/requests/{id}/cancel cancel
#   GET  /files/{id}.mp4                       the video (fal's CDN: no
#                                              credentials)
#
# The follow-up URLs drop the endpoint's sub-path, as fal's do: a client
# that rebuilds them from the endpoint id gets 404.  The submit answer
# names them with this mock's own URL.
#
# Auth: "Authorization: Key <key>".  Inputs are checked against the
# schemas of a few endpoints (types, enums, required fields); a field an
# endpoint does not list is refused, stricter than fal, so the tests see
# any field the adapter should not send.  Errors: 422 {"detail": [{loc,
# msg, type}]} for input, {"detail": "..."} otherwise.
#
# Each request starts IN_QUEUE, then each status poll moves it on
# (IN_PROGRESS, then COMPLETED).  Outcomes by prompt:
#   "[fail]"    COMPLETED with error and error_type in the status (and a
#               5xx request error at the response URL)
#   "[reject]"  COMPLETED; the response URL answers 422
#               content_policy_violation
#
# Control: POST /__mock/finish {"id": ...} completes a request at once
# (a job that ended while the gateway was not looking).

use strict;
use warnings;
use parent 'Makeclip::Mock';

my %KLING = (
    prompt => 'string!', duration => [qw(5 10)],
    negative_prompt => 'string', cfg_scale => 'number',
);

my %ENDPOINTS = (
    'fal-ai/kling-video/v2.1/master/text-to-video' => {
        %KLING, aspect_ratio => ['16:9', '9:16', '1:1'],
    },
    'fal-ai/kling-video/v2.1/master/image-to-video' => {
        %KLING, image_url => 'image!',
    },
    'fal-ai/veo3' => {
        prompt => 'string!', aspect_ratio => ['16:9', '9:16'],
        duration => [qw(4s 6s 8s)], resolution => [qw(720p 1080p)],
        generate_audio => 'bool', negative_prompt => 'string',
        seed => 'integer', auto_fix => 'bool',
        safety_tolerance => [qw(1 2 3 4 5 6)],
    },
    'fal-ai/pika/v2.2/text-to-video' => {
        prompt => 'string!',
        aspect_ratio => ['16:9', '9:16', '1:1', '4:5', '5:4', '3:2', '2:3'],
        duration => [qw(5 10)], resolution => [qw(720p 1080p)],
        negative_prompt => 'string', seed => 'integer',
    },
);

sub routes {
    return [
        ['GET', qr{^/([\w.-]+/[\w.-]+)/requests/([\w-]+)/status$}, \&status,
         'status'],
        ['PUT', qr{^/([\w.-]+/[\w.-]+)/requests/([\w-]+)/cancel$}, \&cancel,
         'cancel'],
        ['GET', qr{^/([\w.-]+/[\w.-]+)/requests/([\w-]+)$}, \&result,
         'result'],
        ['GET', qr{^/files/([\w-]+)\.mp4$}, \&file, 'content'],
        ['POST', qr{^/([\w.-]+/[\w.-]+(?:/[\w.-]+)*)$}, \&submit, 'create'],
    ];
}

sub detail {
    my ($status, $detail, %extra) = @_;
    return [$status, {}, { detail => $detail, %extra }];
}

sub invalid {
    my ($field, $msg, $type) = @_;
    return [422, {}, { detail => [{ loc => ['body', $field], msg => $msg,
                                     type => $type }] }];
}

sub fault_body {
    my ($self, $status) = @_;
    return { detail => "Internal server error ($status)",
             error_type => 'internal_error' };
}

sub key_ok {
    my ($self, $req) = @_;
    return ($req->{headers}{authorization} || '') eq "Key $self->{key}";
}

sub unauthorized {
    return detail(401, 'Authentication is required to perform this action.');
}

sub control {
    my ($self, $what, $req) = @_;

    if ($what eq 'finish') {
        my $task = $self->{tasks}{ ($req->{json} || {})->{id} // '' }
            or return [404, {}, { error => 'no such request' }];
        $task->{polls} = $self->{steps};
        $task->{state} = 'COMPLETED';
        return [200, {}, { ok => JSON::PP::true }];
    }

    return $self->SUPER::control($what, $req);
}

# whether the raw body has the field as a JSON string / a JSON number
sub _raw {
    my ($req, $k, $re) = @_;
    return $req->{body} =~ /"\Q$k\E"\s*:\s*$re/;
}

sub submit {
    my ($self, $req, $endpoint) = @_;

    return unauthorized() unless $self->key_ok($req);

    my $schema = $ENDPOINTS{$endpoint}
        or return detail(404, "Application '$endpoint' not found");

    my $b = $req->{json};
    return [422, {}, { detail => [{ loc => ['body'],
                                     msg => 'value is not a valid dict',
                                     type => 'type_error.dict' }] }]
        unless ref $b eq 'HASH';

    for my $k (sort keys %$schema) {
        my $t = $schema->{$k};
        my $req_field = !ref $t && $t =~ s/!$//;

        if (!exists $b->{$k}) {
            return invalid($k, 'field required', 'value_error.missing')
                if $req_field;
            next;
        }

        my $v = $b->{$k};

        if (ref $t eq 'ARRAY') {
            return invalid($k, 'str type expected', 'type_error.str')
                unless _raw($req, $k, '"');
            return invalid($k, 'unexpected value; permitted: '
                           . join(', ', map { "'$_'" } @$t),
                           'value_error.const')
                unless grep { $_ eq $v } @$t;

        } elsif ($t eq 'string') {
            return invalid($k, 'str type expected', 'type_error.str')
                if ref $v || !_raw($req, $k, '"');

        } elsif ($t eq 'image') {
            return invalid($k, 'str type expected', 'type_error.str')
                if ref $v || !_raw($req, $k, '"');
            return invalid($k, 'invalid or missing URL scheme',
                           'value_error.url.scheme')
                unless $v =~ m{^(https?://|data:image/[\w.+-]+;base64,)};

        } elsif ($t eq 'integer') {
            return invalid($k, 'value is not a valid integer',
                           'type_error.integer')
                if ref $v || !_raw($req, $k, '-?\d+[,}\s]');

        } elsif ($t eq 'number') {
            return invalid($k, 'value is not a valid float',
                           'type_error.float')
                if ref $v || !_raw($req, $k, '-?\d');

        } elsif ($t eq 'bool') {
            return invalid($k, 'value could not be parsed to a boolean',
                           'type_error.bool')
                unless JSON::PP::is_bool($v);
        }
    }

    for my $k (sort keys %$b) {
        return invalid($k, 'extra fields not permitted', 'value_error.extra')
            unless exists $schema->{$k};
    }

    my ($app) = $endpoint =~ m{^([^/]+/[^/]+)};
    my $id = sprintf '%08x-%04x-4%03x-a%03x-%012x', $$, ++$self->{seq},
                     $self->{seq}, $self->{seq}, time;
    my $base = $self->url . "/$app/requests/$id";

    my $outcome = $b->{prompt} =~ /\[fail\]/ ? 'fail'
                : $b->{prompt} =~ /\[reject\]/ ? 'reject' : undef;

    $self->{tasks}{$id} = {
        id => $id, app => $app, endpoint => $endpoint, input => $b,
        state => 'IN_QUEUE', polls => -1, outcome => $outcome,
        urls => { response_url => $base, status_url => "$base/status",
                  cancel_url => "$base/cancel" },
    };

    return [200, {}, { status => 'IN_QUEUE', request_id => $id,
                       queue_position => 0,
                       %{ $self->{tasks}{$id}{urls} } }];
}

sub _task {
    my ($self, $app, $id) = @_;
    my $task = $self->{tasks}{$id};
    return $task && $task->{app} eq $app ? $task : undef;
}

sub status {
    my ($self, $req, $app, $id) = @_;

    return unauthorized() unless $self->key_ok($req);

    my $task = $self->_task($app, $id)
        or return detail(404, "Request $id not found");

    if ($task->{state} ne 'COMPLETED') {
        my $s = $self->advance($task);
        $task->{state} = $s eq 'queued' ? 'IN_QUEUE'
                       : $s eq 'running' ? 'IN_PROGRESS' : 'COMPLETED';
    }

    my %out = (status => $task->{state}, request_id => $id,
               %{ $task->{urls} });

    if ($task->{state} eq 'IN_QUEUE') {
        $out{queue_position} = 0;

    } elsif ($task->{state} eq 'IN_PROGRESS') {
        $out{logs} = undef;

    } else {
        $out{logs} = undef;
        $out{metrics} = { inference_time => 42.5 };

        if ($task->{canceled}) {
            $out{error} = 'Request was cancelled';
            $out{error_type} = 'client_cancelled';

        } elsif (($task->{outcome} // '') eq 'fail') {
            $out{error} = 'The runner encountered an internal server error.';
            $out{error_type} = 'runner_server_error';
        }
    }

    return [200, {}, \%out];
}

sub result {
    my ($self, $req, $app, $id) = @_;

    return unauthorized() unless $self->key_ok($req);

    my $task = $self->_task($app, $id)
        or return detail(404, "Request $id not found");

    return detail(400, 'Request is still in progress')
        unless $task->{state} eq 'COMPLETED';

    my $outcome = $task->{outcome} // '';

    return detail(499, 'Request was cancelled', error_type => 'client_cancelled')
        if $task->{canceled};

    return detail(500, 'The runner encountered an internal server error.',
                  error_type => 'runner_server_error')
        if $outcome eq 'fail';

    return [422, {}, { detail => [{
        loc => ['body', 'prompt'],
        msg => 'The content could not be processed because it contained '
               . 'material flagged by a content checker.',
        type => 'content_policy_violation' }] }]
        if $outcome eq 'reject';

    return [200, {}, { video => {
        url => $self->url . "/files/$id.mp4", content_type => 'video/mp4',
        file_name => 'output.mp4', file_size => 1016 } }];
}

sub cancel {
    my ($self, $req, $app, $id) = @_;

    return unauthorized() unless $self->key_ok($req);

    my $task = $self->_task($app, $id)
        or return [404, {}, { status => 'NOT_FOUND' }];

    return [400, {}, { status => 'ALREADY_COMPLETED' }]
        if $task->{state} eq 'COMPLETED';

    $task->{canceled} = 1;
    $task->{state} = 'COMPLETED';
    return [202, {}, { status => 'CANCELLATION_REQUESTED' }];
}

sub file {
    my ($self, $req, $id) = @_;
    my $task = $self->{tasks}{$id} or return [404, {}, 'Not Found'];
    return [200, { 'Content-Type' => 'video/mp4' },
            "FAL-MP4-$id-" . ('x' x 960)];
}

1;
