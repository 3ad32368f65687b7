package Makeclip::Mock::Wan;

# Alibaba's Wan video models on DashScope (Model Studio), as its
# text-to-video and image-to-video references and the dashscope SDK
# (VideoSynthesis, TaskStatus) document them:
#
#   POST /api/v1/services/aigc/video-generation/video-synthesis   create
#   GET  /api/v1/tasks/{task_id}                                  the task
#   POST /api/v1/tasks/{task_id}/cancel                           cancel
#   GET  /files/{id}.mp4        the video (a signed OSS URL: no credentials)
#
# Bearer auth with the mock's key; the create also needs
# "X-DashScope-Async: enable", without which DashScope refuses with
# AccessDenied "current user api does not support synchronous calls"
# (the message is documented; the 403 status is what Model Studio's error
# code table gives for AccessDenied).  Errors: {"request_id", "code",
# "message"}: 400 InvalidParameter, 401 InvalidApiKey, 403 AccessDenied.
#
# The body is checked per model: input.prompt a string; img_url for
# image-to-video models only (an http(s) URL or a data:...;base64 string)
# and required there; parameters.size "W*H" from the model's list (text
# to video), parameters.resolution "480P"|"720P"|"1080P" from the model's
# list (image to video); duration an integer the model makes; seed an
# integer in [0, 2147483647]; prompt_extend and watermark booleans; no
# other field (stricter than DashScope, so the tests see any field the
# adapter should not send).
#
# Each status poll moves a task on: PENDING, RUNNING, then SUCCEEDED or
# FAILED.  Outcomes by prompt: "[fail]" fails (output.code/message),
# "[suspend]" spends a poll SUSPENDED after PENDING.  An unknown or
# expired task id answers UNKNOWN, as DashScope does.  Cancel works on
# PENDING tasks only (CANCELED); any other is refused with 400
# UnsupportedOperation (that code and message are not documented).
#
# Control: POST /__mock/finish {"id": ...} ends a task as SUCCEEDED.

use strict;
use warnings;
use parent 'Makeclip::Mock';

my @SIZES_480 = qw(832*480 480*832 624*624);
my @SIZES_720 = qw(1280*720 720*1280 960*960 1088*832 832*1088);
my @SIZES_1080 = qw(1920*1080 1080*1920 1440*1440 1632*1248 1248*1632);

my %MODELS = (
    'wan2.5-t2v-preview' => { sizes => [@SIZES_480, @SIZES_720, @SIZES_1080],
                              durations => [5, 10] },
    'wan2.2-t2v-plus'    => { sizes => [@SIZES_480, @SIZES_1080],
                              durations => [5] },
    'wanx2.1-t2v-turbo'  => { sizes => [@SIZES_480, @SIZES_720],
                              durations => [3, 4, 5] },
    'wan2.5-i2v-preview' => { resolutions => [qw(480P 720P 1080P)],
                              durations => [5, 10] },
    'wan2.2-i2v-flash'   => { resolutions => [qw(480P 720P 1080P)],
                              durations => [5] },
);

sub routes {
    return [
        ['POST', qr{^/api/v1/services/aigc/video-generation/video-synthesis$},
         \&create, 'create'],
        ['POST', qr{^/api/v1/tasks/([\w-]+)/cancel$}, \&cancel, 'cancel'],
        ['GET', qr{^/api/v1/tasks/([\w-]+)$}, \&get, 'status'],
        ['GET', qr{^/files/([\w-]+)\.mp4$}, \&file, 'content'],
    ];
}

sub rid { sprintf '4909100c-7b5a-9f92-bfe5-%012d', int(rand 1e12) }

sub error {
    my ($status, $code, $message) = @_;
    return [$status, {}, { request_id => rid(), code => $code,
                           message => $message }];
}

sub invalid { error(400, 'InvalidParameter', $_[0]) }

sub fault_body {
    my ($self, $status) = @_;
    return $status == 429
        ? { request_id => rid(), code => 'Throttling.RateQuota',
            message => 'Requests rate limit exceeded, please try again later.' }
        : { request_id => rid(), code => 'InternalError',
            message => "An internal error has occured ($status)." };
}

sub unauthorized {
    return error(401, 'InvalidApiKey', 'Invalid API-key provided.');
}

sub control {
    my ($self, $what, $req) = @_;

    if ($what eq 'finish') {
        my $task = $self->{tasks}{ ($req->{json} || {})->{id} // '' }
            or return [404, {}, { error => 'no such task' }];
        $task->{status} = 'SUCCEEDED';
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

    return error(403, 'AccessDenied',
                 'current user api does not support synchronous calls')
        unless ($req->{headers}{'x-dashscope-async'} || '') eq 'enable';

    my $b = $req->{json};
    return invalid('The request body is not valid JSON.')
        unless ref $b eq 'HASH';

    for my $k (sort keys %$b) {
        return invalid("Unknown field: $k")
            unless $k =~ /^(model|input|parameters)$/;
    }

    my $m = $MODELS{$b->{model} // ''}
        or return error(400, 'InvalidParameter', 'Model not exist.');

    my $in = $b->{input};
    return invalid('Field required: input.prompt')
        unless ref $in eq 'HASH' && defined $in->{prompt} && !ref $in->{prompt}
               && length $in->{prompt};

    for my $k (sort keys %$in) {
        return invalid("Unknown field: input.$k")
            unless $k =~ /^(prompt|negative_prompt|img_url)$/;
    }

    return invalid('input.negative_prompt must be a string')
        if exists $in->{negative_prompt} && ref $in->{negative_prompt};

    if ($m->{resolutions}) {
        return invalid('Field required: input.img_url')
            unless defined $in->{img_url};
        return invalid('The image url is invalid: input.img_url must be an '
                       . 'http(s) URL or data:{MIME_type};base64,{data}')
            unless !ref $in->{img_url}
                   && $in->{img_url} =~ m{^(https?://|data:image/[\w.+-]+;base64,)};
    } else {
        return invalid("Unknown field: input.img_url for $b->{model}")
            if exists $in->{img_url};
    }

    my $p = $b->{parameters} // {};
    return invalid('parameters must be an object') unless ref $p eq 'HASH';

    for my $k (sort keys %$p) {
        return invalid("Unknown field: parameters.$k")
            unless $k =~ /^(size|resolution|duration|seed|prompt_extend|watermark)$/;
    }

    if ($m->{sizes}) {
        return invalid('resolution is not supported by ' . $b->{model}
                       . '; use size')
            if exists $p->{resolution};
        return invalid('size must be in ' . join(',', @{ $m->{sizes} }))
            if exists $p->{size}
               && !grep { $_ eq ($p->{size} // '') } @{ $m->{sizes} };
    } else {
        return invalid('size is not supported by ' . $b->{model}
                       . '; use resolution')
            if exists $p->{size};
        return invalid('resolution must be in '
                       . join(',', @{ $m->{resolutions} }))
            if exists $p->{resolution}
               && !grep { $_ eq ($p->{resolution} // '') }
                       @{ $m->{resolutions} };
    }

    if (exists $p->{duration}) {
        return invalid('duration must be an integer')
            unless _raw($req, 'duration', '\d+[,}\s]');
        return invalid('duration must be in '
                       . join(',', @{ $m->{durations} }))
            unless grep { $_ == $p->{duration} } @{ $m->{durations} };
    }

    return invalid('seed must be an integer in [0, 2147483647]')
        if exists $p->{seed}
           && !(_raw($req, 'seed', '\d+[,}\s]') && $p->{seed} <= 2147483647);

    for my $k (qw(prompt_extend watermark)) {
        return invalid("$k must be a boolean")
            if exists $p->{$k} && !JSON::PP::is_bool($p->{$k});
    }

    my $id = sprintf '0385dc79-5ff8-4d82-bcb6-%012d', ++$self->{seq};
    my $prompt = $in->{prompt};

    $self->{tasks}{$id} = {
        id => $id, model => $b->{model}, body => $b, status => 'PENDING',
        polls => -1, submit_time => '2025-09-25 11:07:28.590',
        outcome => $prompt =~ /\[fail\]/ ? 'fail' : undef,
        suspend => $prompt =~ /\[suspend\]/ ? 1 : 0,
    };

    return [200, {}, { request_id => rid(),
                       output => { task_status => 'PENDING',
                                   task_id => $id } }];
}

sub get {
    my ($self, $req, $id) = @_;

    return unauthorized() unless $self->bearer_ok($req);

    my $task = $self->{tasks}{$id}
        or return [200, {}, { request_id => rid(),
                              output => { task_id => $id,
                                          task_status => 'UNKNOWN' } }];

    if ($task->{status} =~ /^(PENDING|RUNNING|SUSPENDED)$/) {
        if ($task->{suspend} && $task->{status} eq 'PENDING'
            && $task->{polls} >= 0)
        {
            $task->{suspend} = 0;
            $task->{status} = 'SUSPENDED';

        } else {
            my $s = $self->advance($task);
            $task->{status} = $s eq 'queued' ? 'PENDING'
                            : $s eq 'running' ? 'RUNNING'
                            : $s eq 'fail' ? 'FAILED' : 'SUCCEEDED';
        }
    }

    my %out = (task_id => $id, task_status => $task->{status},
               submit_time => $task->{submit_time});

    if ($task->{status} =~ /^(RUNNING|SUCCEEDED|FAILED)$/) {
        $out{scheduled_time} = '2025-09-25 11:07:35.349';
    }

    if ($task->{status} eq 'SUCCEEDED') {
        $out{end_time} = '2025-09-25 11:17:11.650';
        $out{orig_prompt} = $task->{body}{input}{prompt};
        $out{video_url} = $self->url . "/files/$id.mp4";
    }

    if ($task->{status} eq 'FAILED') {
        $out{end_time} = '2025-09-25 11:17:11.650';
        $out{code} = 'DataInspectionFailed';
        $out{message} = 'Output data may contain inappropriate content.';
    }

    my %res = (request_id => rid(), output => \%out);
    $res{usage} = { duration => $task->{body}{parameters}{duration} // 5,
                    video_count => 1, SR => 720 }
        if $task->{status} eq 'SUCCEEDED';

    return [200, {}, \%res];
}

sub cancel {
    my ($self, $req, $id) = @_;

    return unauthorized() unless $self->bearer_ok($req);

    my $task = $self->{tasks}{$id};

    if ($task && $task->{status} eq 'PENDING') {
        $task->{status} = 'CANCELED';
        return [200, {}, { request_id => rid() }];
    }

    return error(400, 'UnsupportedOperation', 'Failed to cancel the task, '
                 . 'please confirm if the task is in PENDING status.');
}

sub file {
    my ($self, $req, $id) = @_;
    return [404, {}, 'NoSuchKey'] unless $self->{tasks}{$id};
    return [200, { 'Content-Type' => 'video/mp4' },
            "WAN-MP4-$id-" . ('x' x 960)];
}

1;
