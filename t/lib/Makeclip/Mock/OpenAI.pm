package Makeclip::Mock::OpenAI;

# OpenAI's Videos API as documented (and as OpenAI-compatible hosts serve
# it), under /v1:
#
#   POST /v1/videos                create: JSON or multipart; prompt
#                                  required, seconds a string "4"|"8"|"12",
#                                  size one of four, input_reference
#                                  {image_url} (https or data: URL)
#   GET  /v1/videos/{id}           the video object; each poll moves it on
#   GET  /v1/videos/{id}/content   the MP4 bytes
#
# Bearer auth with the mock's key; errors as {"error": {...}}.

use strict;
use warnings;
use parent 'Makeclip::Mock';

my %SECONDS = map { $_ => 1 } qw(4 8 12);
my %SIZES = map { $_ => 1 } qw(720x1280 1280x720 1024x1792 1792x1024);

sub routes {
    return [
        ['POST', qr{^/v1/videos$}, \&create, 'create'],
        ['GET', qr{^/v1/videos/([\w-]+)/content$}, \&content, 'content'],
        ['GET', qr{^/v1/videos/([\w-]+)$}, \&status, 'status'],
    ];
}

sub error {
    my ($status, $message, $param, $code) = @_;
    return [$status, {}, { error => { message => $message,
                                      type => 'invalid_request_error',
                                      param => $param, code => $code } }];
}

sub fault_body {
    my ($self, $status) = @_;
    return { error => { message => "The server had an error ($status)",
                        type => 'server_error', param => undef,
                        code => undef } };
}

sub create {
    my ($self, $req) = @_;

    return error(401, 'Incorrect API key provided: sk-...xxxx.', undef,
                 'invalid_api_key') unless $self->bearer_ok($req);

    my $b = $req->{json};
    return error(400, 'We could not parse the JSON body of your request.')
        unless ref $b eq 'HASH';

    return error(400, "Missing required parameter: 'prompt'.", 'prompt')
        unless defined $b->{prompt} && !ref $b->{prompt} && length $b->{prompt};

    if (exists $b->{seconds}) {
        return error(400, "Invalid type for 'seconds': expected a string, "
                     . "one of '4', '8', '12'.", 'seconds')
            unless _is_string($req, 'seconds');
        return error(400, "Invalid value: '$b->{seconds}'. Supported values "
                     . "are: '4', '8', and '12'.", 'seconds')
            unless $SECONDS{$b->{seconds}};
    }

    return error(400, "Invalid value: '$b->{size}'.", 'size')
        if defined $b->{size} && !$SIZES{$b->{size}};

    for my $k (keys %$b) {
        return error(400, "Unrecognized request argument supplied: $k", $k)
            unless $k =~ /^(model|prompt|seconds|size|input_reference)$/;
    }

    if (my $ir = $b->{input_reference}) {
        return error(400, 'input_reference must have image_url or file_id.',
                     'input_reference')
            unless ref $ir eq 'HASH' && ($ir->{image_url} || $ir->{file_id});
    }

    my $id = $self->next_id('video_mock');
    my $task = $self->{tasks}{$id} = {
        id => $id, object => 'video', model => $b->{model} // 'sora-2',
        status => 'queued', progress => 0, created_at => time,
        completed_at => undef, expires_at => undef,
        prompt => $b->{prompt}, seconds => $b->{seconds} // '4',
        size => $b->{size} // '720x1280', remixed_from_video_id => undef,
        error => undef,
        polls => 0,
        outcome => ($b->{prompt} =~ /\[fail\]/ ? 'fail' : undef),
    };

    my $pub = _public($task);
    $pub->{padding} = 'p' x $self->{config}{pad} if $self->{config}{pad};
    return [200, {}, $pub];
}

# whether the raw body carried the field as a JSON string
sub _is_string {
    my ($req, $k) = @_;
    return $req->{body} =~ /"\Q$k\E"\s*:\s*"/;
}

sub _public {
    my ($task) = @_;
    my %v = %$task;
    delete @v{qw(polls outcome)};
    return \%v;
}

sub status {
    my ($self, $req, $id) = @_;

    return error(401, 'Incorrect API key provided.', undef, 'invalid_api_key')
        unless $self->bearer_ok($req);

    my $task = $self->{tasks}{$id}
        or return error(404, "Video $id not found", undef, 'not_found');

    if ($task->{status} =~ /^(queued|in_progress)$/) {
        my $s = $self->advance($task);
        if ($s eq 'running') {
            $task->{status} = 'in_progress';
            $task->{progress} = 50;
        } elsif ($s eq 'succeed') {
            $task->{status} = 'completed';
            $task->{progress} = 100;
            $task->{completed_at} = time;
        } elsif ($s eq 'fail') {
            $task->{status} = 'failed';
            $task->{error} = { code => 'moderation_blocked',
                               message => 'Your request was blocked by our moderation system.' };
        }
    }

    return [200, {}, _public($task)];
}

sub content {
    my ($self, $req, $id) = @_;

    return error(401, 'Incorrect API key provided.', undef, 'invalid_api_key')
        unless $self->bearer_ok($req);

    my $task = $self->{tasks}{$id}
        or return error(404, "Video $id not found");

    return error(400, 'Video is not ready.') unless $task->{status} eq 'completed';

    return [200, { 'Content-Type' => 'video/mp4' }, "MOCK-MP4-$id-" . ('x' x 1000)];
}

1;
