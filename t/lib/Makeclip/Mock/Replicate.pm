package Makeclip::Mock::Replicate;

# Replicate's HTTP API as its reference and the official JavaScript
# client describe it, under /v1:
#
#   POST /v1/models/{owner}/{name}/predictions   create on the model's
#                                                latest version
#   POST /v1/predictions                         create on {"version"}
#   GET  /v1/predictions/{id}                    the prediction; each poll
#                                                moves it on: starting ->
#                                                processing (progress-bar
#                                                logs) -> succeeded (output)
#                                                or failed (error) or
#                                                aborted
#   POST /v1/predictions/{id}/cancel             canceled; 200, the
#                                                prediction
#   GET  /media/{id}.mp4                         the output file
#
# "Authorization: Bearer <token>" or 401.  Errors are problem+json:
# {"title", "detail", "status"} (+ "invalid_fields" on 422).  The payload's
# top-level fields are checked as Replicate does (input required, nothing
# unknown), and input against each model's schema below: types, enums,
# required fields; an input the model does not declare is refused too,
# stricter than Replicate, so that a misnamed field cannot pass unseen.
#
# A prompt with "[fail]" ends failed; with "[abort]", aborted.

use strict;
use warnings;
use parent 'Makeclip::Mock';

our $V_TEXT2VID = '5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa';
our $V_HAILUO = 'a3c1b0d2e4f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00';

my %MODELS = (
    'acme/text2vid' => {
        version => $V_TEXT2VID, output => 'array',
        inputs => {
            prompt => { type => 'string', required => 1 },
            duration => { type => 'integer', enum => [5, 10] },
            aspect_ratio => { type => 'string', enum => ['16:9', '9:16', '1:1'] },
            seed => { type => 'integer' },
            negative_prompt => { type => 'string' },
            image => { type => 'uri' },
        },
    },
    'minimax/hailuo-02' => {
        version => $V_HAILUO, output => 'string',
        inputs => {
            prompt => { type => 'string', required => 1 },
            duration => { type => 'integer', enum => [6, 10] },
            resolution => { type => 'string', enum => ['512p', '768p', '1080p'] },
            first_frame_image => { type => 'uri' },
            prompt_optimizer => { type => 'boolean' },
        },
    },
);

my %BY_VERSION = map { $MODELS{$_}{version} => $_ } keys %MODELS;

sub routes {
    return [
        ['POST', qr{^/v1/models/([\w.-]+)/([\w.-]+)/predictions$}, \&create_model,
         'create'],
        ['POST', qr{^/v1/predictions$}, \&create_version, 'create'],
        ['POST', qr{^/v1/predictions/(\w+)/cancel$}, \&cancel, 'cancel'],
        ['GET', qr{^/v1/predictions/(\w+)$}, \&status, 'status'],
        ['GET', qr{^/media/(\w+)\.mp4$}, \&media, 'content'],
    ];
}

sub problem {
    my ($status, $title, $detail, @fields) = @_;
    return [$status, { 'Content-Type' => 'application/problem+json' },
            { title => $title, detail => $detail, status => $status + 0,
              @fields ? (invalid_fields => \@fields) : () }];
}

sub fault_body {
    my ($self, $status) = @_;
    return $status eq '429'
        ? { detail => 'Request was throttled. Your rate limit resets in ~30s.',
            status => 429 }
        : { title => 'Internal Server Error', detail => 'Something went wrong',
            status => $status + 0 };
}

sub unauthenticated {
    return problem(401, 'Unauthenticated',
                   'You did not pass a valid authentication token');
}

sub invalid {
    my (@fields) = @_;
    my $detail = join '', map { "- $_->{field}: $_->{description}\n" } @fields;
    return problem(422, 'Input validation failed', $detail, @fields);
}

sub create_model {
    my ($self, $req, $owner, $name) = @_;
    return unauthenticated() unless $self->bearer_ok($req);
    my $model = $MODELS{"$owner/$name"}
        or return problem(404, 'Not found',
                          'The requested resource could not be found.');
    return $self->create($req, "$owner/$name", 0);
}

sub create_version {
    my ($self, $req) = @_;
    return unauthenticated() unless $self->bearer_ok($req);
    my $b = $req->{json};
    return invalid({ type => 'required', field => '',
                     description => 'version is required' })
        unless ref $b eq 'HASH' && defined $b->{version};
    my $name = $BY_VERSION{ $b->{version} }
        or return problem(422, 'Invalid version or not permitted',
                          'The specified version does not exist (or perhaps '
                          . 'you don\'t have permission to use it?)');
    return $self->create($req, $name, 1);
}

# whether the raw body had the input as a JSON string / number / boolean
sub _raw_type {
    my ($req, $k) = @_;
    my ($v) = $req->{body} =~ /"\Q$k\E"\s*:\s*("|-?\d|true|false|null|\[|\{)/;
    return '' unless defined $v;
    return 'string' if $v eq '"';
    return 'number' if $v =~ /\d/;
    return 'boolean' if $v =~ /^(true|false)$/;
    return $v;
}

sub create {
    my ($self, $req, $name, $versioned) = @_;

    my $b = $req->{json};
    return problem(400, 'Bad request', 'The request body is not valid JSON')
        unless ref $b eq 'HASH';

    my %top = map { $_ => 1 } qw(input webhook webhook_events_filter stream),
                              $versioned ? ('version') : ();
    my @bad = map { { type => 'additional_property_not_allowed', field => '',
                      description => "Additional property $_ is not allowed" } }
              grep { !$top{$_} } sort keys %$b;
    push @bad, { type => 'required', field => '', description => 'input is required' }
        unless ref $b->{input} eq 'HASH';
    return invalid(@bad) if @bad;

    my $schema = $MODELS{$name}{inputs};
    my $in = $b->{input};

    for my $k (sort keys %$schema) {
        push @bad, { type => 'required', field => "input.$k",
                     description => "$k is required" }
            if $schema->{$k}{required} && !defined $in->{$k};
    }

    for my $k (sort keys %$in) {
        my $s = $schema->{$k};
        if (!$s) {
            push @bad, { type => 'additional_property_not_allowed',
                         field => 'input',
                         description => "Additional property $k is not allowed" };
            next;
        }

        my $raw = _raw_type($req, $k);
        my $want = $s->{type} eq 'integer' ? 'number'
                 : $s->{type} eq 'uri' ? 'string' : $s->{type};
        if ($raw ne $want || ($s->{type} eq 'integer' && $in->{$k} !~ /^-?\d+$/)) {
            push @bad, { type => 'invalid_type', field => "input.$k",
                         description => "Invalid type. Expected: $s->{type}, "
                                        . "given: $raw" };
            next;
        }

        if ($s->{type} eq 'uri' && $in->{$k} !~ m{^(https?://|data:[\w/.+-]+;base64,)}) {
            push @bad, { type => 'format', field => "input.$k",
                         description => 'Does not match format \'uri\'' };
        }

        if ($s->{enum} && !grep { $_ eq $in->{$k} } @{ $s->{enum} }) {
            push @bad, { type => 'enum', field => "input.$k",
                         description => 'Must be one of: '
                                        . join(', ', @{ $s->{enum} }) };
        }
    }

    return invalid(@bad) if @bad;

    my $id = sprintf 'gm3qorzdhgbfurvjtvhg%06d', ++$self->{seq};
    my $prompt = $in->{prompt} // '';
    my $task = $self->{tasks}{$id} = {
        id => $id, model => $name, version => $MODELS{$name}{version},
        input => $in, logs => '', output => undef, data_removed => JSON::PP::false,
        error => undef, status => 'starting', created_at => '2026-01-01T00:00:00.000Z',
        urls => { get => $self->url . "/v1/predictions/$id",
                  cancel => $self->url . "/v1/predictions/$id/cancel" },
        prefer => $req->{headers}{prefer},
        polls => 0,
        outcome => $prompt =~ /\[fail\]/ ? 'fail'
                 : $prompt =~ /\[abort\]/ ? 'abort' : undef,
    };

    return [201, {}, _public($task)];
}

sub _public {
    my ($task) = @_;
    my %v = %$task;
    delete @v{qw(polls outcome prefer)};
    return \%v;
}

sub status {
    my ($self, $req, $id) = @_;

    return unauthenticated() unless $self->bearer_ok($req);

    my $task = $self->{tasks}{$id}
        or return problem(404, 'Not found',
                          'The requested resource could not be found.');

    if ($task->{status} =~ /^(starting|processing)$/) {
        my $s = $self->advance($task);
        if ($task->{outcome} && $task->{outcome} eq 'abort') {
            $task->{status} = 'aborted';
        } elsif ($s eq 'running') {
            $task->{status} = 'processing';
            $task->{started_at} = '2026-01-01T00:00:01.000Z';
            $task->{logs} = "Loading pipeline...\n"
                . " 10%|#         | 5/50 [00:01<00:09,  5.00it/s]\n"
                . " 40%|####      | 20/50 [00:04<00:06,  5.00it/s]\n";
        } elsif ($s eq 'succeed') {
            my $url = $self->url . "/media/$id.mp4";
            $task->{status} = 'succeeded';
            $task->{output} = $MODELS{ $task->{model} }{output} eq 'array'
                            ? [$url] : $url;
            $task->{metrics} = { predict_time => 42.1 };
        } elsif ($s eq 'fail') {
            $task->{status} = 'failed';
            $task->{error} = 'NSFW content detected. Try running it again, '
                . 'or try a different prompt.';
        }
    }

    return [200, {}, _public($task)];
}

sub cancel {
    my ($self, $req, $id) = @_;

    return unauthenticated() unless $self->bearer_ok($req);

    my $task = $self->{tasks}{$id}
        or return problem(404, 'Not found',
                          'The requested resource could not be found.');

    $task->{status} = 'canceled' if $task->{status} =~ /^(starting|processing)$/;
    return [200, {}, _public($task)];
}

sub media {
    my ($self, $req, $id) = @_;

    my $task = $self->{tasks}{$id};
    return [404, { 'Content-Type' => 'text/plain' }, 'not found']
        unless $task && $task->{status} eq 'succeeded';

    return [200, { 'Content-Type' => 'video/mp4' },
            "REPLICATE-MP4-$id-" . ('p' x 2000)];
}

1;
