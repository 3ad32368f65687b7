package Makeclip::Mock::Runway;

# Runway's Developer API as its reference and @runwayml/sdk describe it:
#
#   POST   /v1/text_to_video     create without an image
#   POST   /v1/image_to_video    create with promptImage
#   GET    /v1/tasks/{id}        the task; each poll moves it on:
#                                PENDING -> THROTTLED -> RUNNING (progress
#                                0.4) -> SUCCEEDED (output[]) or FAILED
#   DELETE /v1/tasks/{id}        cancels a PENDING, THROTTLED or RUNNING
#                                task, deletes any other; 204, no body
#   GET    /media/{id}.mp4       the output (a signed CDN URL at Runway)
#
# Every call needs "Authorization: Bearer <key>" (else 401) and
# "X-Runway-Version: 2024-11-06" (else 400).  Bodies are validated per
# model the way the SDK's types declare them: endpoint, ratio list,
# duration as a JSON number within the model's values, seed and
# negativePrompt only where the model has them, no unknown fields.
# Errors: {"error": "...", "issues": [{"message", "path"}]}.
#
# A prompt with "[fail]" ends FAILED (failureCode SAFETY.INPUT.TEXT).

use strict;
use warnings;
use parent 'Makeclip::Mock';

use JSON::PP;

my @GEN4 = qw(1280:720 720:1280 1104:832 832:1104 960:960 1584:672);
my @WIDE = qw(1280:720 720:1280);
my @VEO = qw(1280:720 720:1280 1080:1920 1920:1080);

# per model: the ratios of each endpoint it has, its durations, whether
# it takes a seed or a negative prompt
my %MODELS = (
    'gen4.5' => { t2v => \@WIDE, i2v => \@GEN4, durations => [2 .. 10],
                  duration_required => 1, seed => 1 },
    'gen4_turbo' => { i2v => \@GEN4, durations => [2 .. 10], seed => 1 },
    'veo3' => { t2v => \@VEO, i2v => \@VEO, durations => [8],
                duration_required => 1, negative => 1 },
    'veo3.1' => { t2v => \@VEO, i2v => \@VEO, durations => [4, 6, 8],
                  negative => 1 },
    'veo3.1_fast' => { t2v => \@VEO, i2v => \@VEO, durations => [4, 6, 8],
                       negative => 1 },
);

sub routes {
    return [
        ['POST', qr{^/v1/text_to_video$}, \&text_to_video, 'create'],
        ['POST', qr{^/v1/image_to_video$}, \&image_to_video, 'create'],
        ['GET', qr{^/v1/tasks/([\w-]+)$}, \&status, 'status'],
        ['DELETE', qr{^/v1/tasks/([\w-]+)$}, \&cancel, 'cancel'],
        ['GET', qr{^/media/([\w-]+)\.mp4$}, \&media, 'content'],
    ];
}

sub error {
    my ($status, $message, @issues) = @_;
    return [$status, {}, { error => $message,
                           @issues ? (issues => \@issues) : () }];
}

sub invalid {
    my ($path, $message) = @_;
    return error(400, 'Validation of body failed',
                 { code => 'invalid', path => [$path], message => $message });
}

sub fault_body {
    my ($self, $status) = @_;
    return { error => $status eq '429' ? 'Too many requests'
                                       : 'An unexpected error occurred' };
}

# auth and version, as every endpoint checks them
sub gate {
    my ($self, $req) = @_;

    return error(401, 'Invalid API key. Keys start with key_.')
        unless $self->bearer_ok($req);

    my $want = $self->{config}{version} // '2024-11-06';
    my $v = $req->{headers}{'x-runway-version'};
    return error(400, 'The X-Runway-Version header is missing or invalid. '
                 . "Use $want.")
        unless defined $v && $v eq $want;

    return undef;
}

sub text_to_video { $_[0]->create($_[1], 't2v') }
sub image_to_video { $_[0]->create($_[1], 'i2v') }

# whether the raw body had the field as a JSON number
sub _is_number {
    my ($req, $k) = @_;
    return $req->{body} =~ /"\Q$k\E"\s*:\s*-?\d/;
}

sub create {
    my ($self, $req, $kind) = @_;

    my $denied = $self->gate($req);
    return $denied if $denied;

    my $b = $req->{json};
    return error(400, 'Invalid JSON body') unless ref $b eq 'HASH';

    my $m = $MODELS{ $b->{model} // '' }
        or return invalid('model', 'Invalid enum value for model');

    my $ratios = $m->{$kind}
        or return invalid('model', "Model $b->{model} is not available on "
                          . ($kind eq 't2v' ? '/v1/text_to_video'
                                            : '/v1/image_to_video'));

    my %known = map { $_ => 1 } qw(model promptText ratio duration seed
        contentModeration negativePrompt promptImage);
    for my $k (sort keys %$b) {
        return invalid($k, "Unrecognized key: \"$k\"") unless $known{$k};
    }

    if ($kind eq 't2v' || exists $b->{promptText}) {
        return invalid('promptText', 'Expected a non-empty string')
            unless defined $b->{promptText} && !ref $b->{promptText}
                && length $b->{promptText};
        return invalid('promptText', 'String must contain at most 1000 '
                       . 'character(s)') if length $b->{promptText} > 1000;
    }

    if ($kind eq 'i2v') {
        my $img = $b->{promptImage};
        return invalid('promptImage', 'Required') unless defined $img;
        return invalid('promptImage', 'Expected string or array')
            if ref $img && ref $img ne 'ARRAY';
        for my $u (ref $img ? map { $_->{uri} } @$img : $img) {
            return invalid('promptImage', 'Only HTTPS URLs are allowed.')
                unless defined $u && $u =~ m{^(https://|data:image/[\w.+-]+;base64,)};
        }
    }

    return invalid('ratio', 'Invalid enum value. Expected '
                   . join(' | ', map { "'$_'" } @$ratios))
        unless defined $b->{ratio} && grep { $_ eq $b->{ratio} } @$ratios;

    if (exists $b->{duration} || $m->{duration_required}) {
        return invalid('duration', 'Expected number, received '
                       . (defined $b->{duration} ? 'string' : 'undefined'))
            unless defined $b->{duration} && _is_number($req, 'duration');
        return invalid('duration', 'Invalid duration. Expected '
                       . join(' | ', @{ $m->{durations} }))
            unless grep { $_ == $b->{duration} } @{ $m->{durations} };
    }

    if (exists $b->{seed}) {
        return invalid('seed', 'Unrecognized key: "seed"') unless $m->{seed};
        return invalid('seed', 'Expected integer')
            unless _is_number($req, 'seed') && $b->{seed} =~ /^\d+$/
                && $b->{seed} <= 4294967295;
    }

    if (exists $b->{negativePrompt}) {
        return invalid('negativePrompt', 'Unrecognized key: "negativePrompt"')
            unless $m->{negative};
        return invalid('negativePrompt', 'Expected string')
            if ref $b->{negativePrompt};
    }

    my $id = sprintf '%08x-6c24-4c16-946b-%012d', 0x17f20503, ++$self->{seq};
    $self->{tasks}{$id} = {
        id => $id, createdAt => '2026-01-01T00:00:00.000Z',
        status => 'PENDING', polls => 0,
        outcome => (($b->{promptText} // '') =~ /\[fail\]/ ? 'fail' : undef),
    };

    return [200, {}, { id => $id }];
}

sub _public {
    my ($task) = @_;
    my %v = %$task;
    delete @v{qw(polls outcome)};
    return \%v;
}

sub status {
    my ($self, $req, $id) = @_;

    my $denied = $self->gate($req);
    return $denied if $denied;

    my $task = $self->{tasks}{$id} or return error(404, 'Not found');

    if ($task->{status} =~ /^(PENDING|THROTTLED|RUNNING)$/) {
        my $n = ++$task->{polls};
        if ($n == 1) {
            $task->{status} = 'THROTTLED';
        } elsif ($n == 2) {
            $task->{status} = 'RUNNING';
            $task->{progress} = 0.4;
        } elsif (($task->{outcome} // $self->{outcome}) eq 'fail') {
            delete $task->{progress};
            $task->{status} = 'FAILED';
            $task->{failure} = 'The prompt did not pass content moderation.';
            $task->{failureCode} = 'SAFETY.INPUT.TEXT';
        } else {
            delete $task->{progress};
            $task->{status} = 'SUCCEEDED';
            $task->{output} = [ $self->url . "/media/$id.mp4?_jwt=signed" ];
        }
    }

    return [200, {}, _public($task)];
}

sub cancel {
    my ($self, $req, $id) = @_;

    my $denied = $self->gate($req);
    return $denied if $denied;

    my $task = $self->{tasks}{$id} or return error(404, 'Not found');

    if ($task->{status} =~ /^(PENDING|THROTTLED|RUNNING)$/) {
        $task->{status} = 'CANCELLED';
        delete $task->{progress};
    } else {
        delete $self->{tasks}{$id};
    }

    return [204, { 'Content-Type' => 'text/plain' }, ''];
}

sub media {
    my ($self, $req, $id) = @_;

    my $task = $self->{tasks}{$id};
    return [404, { 'Content-Type' => 'text/plain' }, 'not found']
        unless $task && $task->{status} eq 'SUCCEEDED'
            && ($req->{query}{_jwt} // '') eq 'signed';

    return [200, { 'Content-Type' => 'video/mp4' },
            "RUNWAY-MP4-$id-" . ('r' x 2000)];
}

1;
